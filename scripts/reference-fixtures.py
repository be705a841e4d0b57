#!/usr/bin/python3
"""Reference figures for the generator's export dialects.

For each dialect of datasets/synth this script generates the export at a
fixed size and seed with `go run ./cmd/gen`, prepares the features a careful
analyst would (the true outcome; the pre-sale features only, every leaking
column left out; tag lists multi-hot; dates as days since 1970), splits the
rows exactly as train.Train does (the oldest 80% of closed rows by close
date to train, the newest 20% to test, ties kept in file order; where the
engine finds no close date (leads, subscription), a seeded random fifth of
each outcome: rows ordered by the SHA-256 of "<seed>:<row>", the last fifth
of each outcome held out), fits scikit-learn's
HistGradientBoostingClassifier and XGBoost, and
writes datasets/synth/testdata/reference.json with, per dialect, the rows,
the seed, the sha256 of every generated file, the positives, and the ROC AUC
and log loss of each model on the test rows.

Run from anywhere:  /usr/bin/python3 scripts/reference-fixtures.py
A Go test (datasets/synth) checks that the generator still writes files with
these sha256 sums, so that the figures stay valid.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import sklearn
import xgboost
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss, roc_auc_score

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "datasets", "synth", "testdata", "reference.json")
TEST_SHARE = 0.2

# dialect: (rows, seed)
SIZES = {
    "default": (5000, 1),
    "salesforce": (5000, 1),
    "hubspot": (5000, 1),
    "leads": (5000, 1),
    "subscription": (5000, 1),
    "twotable": (4000, 1),
    "channels": (5000, 1),
}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def money(s):
    """Parses "$1,200.00" and plain numbers; blanks are NaN."""
    return pd.to_numeric(s.astype(str).str.replace(r"[$,]", "", regex=True).replace({"nan": np.nan, "": np.nan}),
                         errors="raise")


def days(s, **kw):
    """Days since 1970-01-01 of a date column (the engine's date features); blanks are NaN."""
    d = pd.to_datetime(s, **kw)
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_convert(None)
    return (d - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)


def multi_hot(s, sep, prefix):
    """One column per tag, tags trimmed and lower-cased; missing lists are NaN."""
    tags = s.fillna("").astype(str).map(lambda v: sorted({t.strip().lower() for t in v.split(sep) if t.strip()}))
    names = sorted({t for ts in tags for t in ts})
    out = pd.DataFrame({f"{prefix}={n}": tags.map(lambda ts, n=n: float(n in ts)) for n in names}, index=s.index)
    out[s.isna().values] = np.nan
    return out


def one_hot(df, cols):
    """One-hot columns for the categoricals, missing as no level."""
    return pd.get_dummies(df[cols].astype("object"), dummy_na=False, dtype=float)


def placeholder_to_nan(s, placeholders=("Select",)):
    return s.where(~s.isin(placeholders))


def prep_default(files):
    d = pd.read_csv(files["accounts"])
    y = (d["outcome"] == "won").astype(int).values
    num = ["employees", "annual_revenue_usd", "founded_year", "web_visits_30d", "trial_users", "support_tickets_90d"]
    cat = ["industry", "country", "region", "funding_stage", "business_model"]
    X = pd.concat([d[num].astype(float), one_hot(d, cat), multi_hot(d["tech_stack"], ";", "tech_stack")], axis=1)
    date = pd.to_datetime(d["close_date"])
    excluded = {"account_id": "id", "outcome": "outcome", "close_date": "split date",
                "sales_cycle_days": "known after the sale", "ltv_usd": "known after the sale",
                "churned": "known after the sale"}
    return X, y, date, np.ones(len(d), bool), excluded


def prep_salesforce(files):
    d = pd.read_csv(files["accounts"], keep_default_na=False, na_values=[""])
    closed = d["Stage"].isin(["Closed Won", "Closed Lost"]).values
    y = (d["Stage"] == "Closed Won").astype(int).values
    num = pd.DataFrame({"Annual Revenue": money(d["Annual Revenue"]), "Employees": d["Employees"].astype(float),
                        "Meetings Held": d["Meetings Held"].astype(float),
                        "Created Date": days(d["Created Date"], format="%m/%d/%Y")})
    cat = ["Industry", "Billing Country", "Ownership", "Lead Source", "Opportunity Owner"]
    X = pd.concat([num, one_hot(d, cat), multi_hot(d["Tech Stack"], ",", "Tech Stack")], axis=1)
    date = pd.to_datetime(d["Close Date"], format="%m/%d/%Y")
    excluded = {"(row number)": "row number", "Opportunity ID": "id", "Opportunity Name": "id",
                "Account ID": "id", "Account Name": "id", "Stage": "outcome", "Probability (%)": "set by the stage",
                "Close Date": "split date", "Amount": "filled only for won deals",
                "Contract Signed": "filled only for won deals", "Customer Since": "filled only for won deals",
                "Lifetime Value": "filled only for won deals", "Description": "free text"}
    return X, y, date, closed, excluded


def prep_hubspot(files):
    d = pd.read_csv(files["accounts"], keep_default_na=False, na_values=[""])
    won = d["Lifecycle Stage"].isin(["Customer", "Evangelist"])
    closed = (won | (d["Lifecycle Stage"] == "Other")).values
    y = won.astype(int).values
    num = d[["Number of Employees", "Annual Revenue", "Number of Sessions", "Number of Pageviews"]].astype(float)
    num["Create Date"] = days(d["Create Date"])
    pub = (d["Is Public"].astype(str).str.lower() == "true").astype(float).rename("Is Public")
    cat = ["Industry", "Country/Region", "Original Source"]
    X = pd.concat([num, pub, one_hot(d, cat), multi_hot(d["Technologies"], ";", "Technologies")], axis=1)
    date = pd.to_datetime(d["Close Date"], utc=True)
    excluded = {"Record ID": "id", "Company name": "id", "Company Domain Name": "id", "Company owner": "assigned later",
                "Lifecycle Stage": "outcome", "Lead Status": "set after the outcome",
                "Close Date": "split date", "Became a Customer Date": "filled only for customers",
                "Total Revenue": "filled only for customers", "Days to Close": "filled only for customers"}
    return X, y, date, closed, excluded


def prep_leads(files):
    d = pd.read_csv(files["accounts"], keep_default_na=False, na_values=[""])
    y = d["Converted"].astype(int).values
    num = d[["TotalVisits", "Total Time Spent on Website", "Page Views Per Visit"]].astype(float)
    flags = pd.DataFrame({c: (d[c] == "Yes").astype(float) for c in
                          ["Do Not Email", "Do Not Call", "A free copy of Mastering The Interview"]})
    cats = ["Lead Origin", "Lead Source", "Last Activity", "Country", "Specialization", "How did you hear about us",
            "What is your current occupation", "Lead Profile", "City", "Last Notable Activity"]
    c = d[cats].apply(placeholder_to_nan)
    X = pd.concat([num, flags, one_hot(c, cats), multi_hot(d["Course Interests"], "|", "Course Interests")], axis=1)
    excluded = {"Prospect ID": "id", "Lead Number": "row number", "Converted": "outcome",
                "Tags": "set by sales after contact", "Lead Quality": "set by sales after contact",
                "Asymmetrique Activity Index": "scored after contact", "Asymmetrique Activity Score": "scored after contact"}
    return X, y, None, np.ones(len(d), bool), excluded


def prep_subscription(files):
    d = pd.read_csv(files["accounts"], keep_default_na=False, na_values=[""])
    y = (d["churned"] == "no").astype(int).values  # positive: the customer stays
    num = d[["seats", "mrr", "logins_30d", "support_tickets_90d"]].astype(float)
    num["signup_date"] = days(d["signup_date"])
    sso = (d["has_sso"].astype(str).str.lower() == "true").astype(float).rename("has_sso")
    cat = ["plan", "billing_cycle", "industry", "company_size", "country"]
    X = pd.concat([num, sso, one_hot(d, cat), multi_hot(d["integrations"], ",", "integrations")], axis=1)
    date = None  # a signup date is no close date: the engine splits at random
    excluded = {"customer_id": "id", "company": "id", "churned": "outcome",
                "churn_date": "filled only for churned customers",
                "cancellation_reason": "filled only for churned customers",
                "nps_score": "an exit survey: filled for most churned customers, few retained ones",
                "lifetime_value": "grows with the time the customer stayed"}
    return X, y, date, np.ones(len(d), bool), excluded


def prep_twotable(files):
    a = pd.read_csv(files["accounts"], keep_default_na=False, na_values=[""])
    o = pd.read_csv(files["opportunities"], keep_default_na=False, na_values=[""])
    o["close"] = pd.to_datetime(o["Close Date"])
    closed = o[o["Stage"].isin(["Closed Won", "Closed Lost"])]
    won = closed[closed["Stage"] == "Closed Won"].groupby("AccountId")["close"].min()
    lost = closed.groupby("AccountId")["close"].max()
    key = a["Account ID"]
    is_won = key.isin(won.index)
    has_closed = key.isin(lost.index)
    y = is_won.astype(int).values
    date = pd.Series(np.where(is_won, key.map(won), key.map(lost)), index=a.index)
    date = pd.to_datetime(date)
    num = a[["Employees", "Annual Revenue"]].astype(float)
    num["Created Date"] = days(a["Created Date"])
    cat = ["Industry", "Billing Country", "Ownership", "Account Source"]
    X = pd.concat([num, one_hot(a, cat), multi_hot(a["Tech Stack"], ";", "Tech Stack")], axis=1)
    excluded = {"Account ID": "id (joins AccountId)", "Account Name": "id",
                "opportunities.*": "deal columns: the outcome (Stage, Close Date) or known after it "
                                   "(Amount of won deals, Type Renewal/Upsell, Forecast Category)"}
    return X, y, date, has_closed.values, excluded


def prep_channels(files):
    d = pd.read_csv(files["accounts"], keep_default_na=False, na_values=[""])
    closed = d["Deal Stage"].isin(["Closed Won", "Closed Lost"]).values
    y = (d["Deal Stage"] == "Closed Won").astype(int).values
    num = d[["Employees", "Web Visits (30d)"]].astype(float)
    demo = (d["Demo Requested"] == "Yes").astype(float).rename("Demo Requested")
    cat = ["Industry", "Country", "Lead Source"]
    X = pd.concat([num, demo, one_hot(d, cat), multi_hot(d["Tech Stack"], ";", "Tech Stack")], axis=1)
    date = pd.to_datetime(d["Close Date"])
    excluded = {"Account ID": "id", "Company": "id", "Deal Stage": "outcome", "Close Date": "split date",
                "Contract Value": "filled only for won deals: the value outcome"}
    return X, y, date, closed, excluded


PREP = {"default": prep_default, "salesforce": prep_salesforce, "hubspot": prep_hubspot,
        "leads": prep_leads, "subscription": prep_subscription, "twotable": prep_twotable,
        "channels": prep_channels}

# dialect: the column of the value outcome, for the value reference figures.
VALUE = {"channels": "Contract Value"}


def go_round(x):
    """Go's math.Round for non-negative values: halves away from zero."""
    return int(np.floor(x + 0.5))


def split(rows, y, date, seed):
    """Train and test row indices among rows (file order), as train.Train splits.

    With a close date: the rows sorted by it (stable; rows without one
    first), the newest share held out. Without one: the rows ordered by the
    SHA-256 of "<seed>:<row>" (row 0-based in the file), and the last
    round(share × n) rows of each outcome in that order held out.
    """
    n = len(rows)
    if date is not None:
        key = date.iloc[rows].values.astype("datetime64[ns]").astype(np.int64)  # NaT is the smallest int64
        order = rows[np.argsort(key, kind="stable")]
        n_test = go_round(TEST_SHARE * n)
        desc = "time-ordered: closed rows sorted by date (stable), the newest %d%% held out" % (100 * TEST_SHARE)
        return order[: n - n_test], order[n - n_test:], desc
    h = [hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in rows]
    order = rows[sorted(range(n), key=lambda j: h[j])]
    quota = {c: go_round(TEST_SHARE * int((y[rows] == c).sum())) for c in (0, 1)}
    test = np.zeros(n, bool)
    for j in range(n - 1, -1, -1):
        c = int(y[order[j]])
        if quota[c] > 0:
            quota[c] -= 1
            test[j] = True
    desc = ("seeded random: rows ordered by the sha256 of '<seed>:<row>' (row 0-based in file order), "
            "the last %d%% of each outcome in that order held out" % (100 * TEST_SHARE))
    return order[~test], order[test], desc


def fit_models(Xtr, ytr, Xte, yte):
    out = {}
    hgb = HistGradientBoostingClassifier(random_state=0)
    hgb.fit(Xtr, ytr)
    p = hgb.predict_proba(Xte)[:, 1]
    out["hist_gradient_boosting"] = {"roc_auc": round(float(roc_auc_score(yte, p)), 6),
                                     "log_loss": round(float(log_loss(yte, p)), 6)}
    xgb = xgboost.XGBClassifier(n_estimators=300, learning_rate=0.05, max_depth=4, subsample=1.0,
                                random_state=0, n_jobs=1, tree_method="hist")
    xgb.fit(Xtr, ytr)
    p = xgb.predict_proba(Xte)[:, 1]
    out["xgboost"] = {"roc_auc": round(float(roc_auc_score(yte, p)), 6), "log_loss": round(float(log_loss(yte, p)), 6)}
    return out


def captured(key, value, share):
    """Share of the value held by the top share of rows by key, ties at the cut counted in part."""
    order = np.argsort(-key, kind="stable")
    k, taken, got = share * len(key), 0.0, 0.0
    i = 0
    while i < len(order) and taken < k:
        j = i
        while j < len(order) and key[order[j]] == key[order[i]]:
            j += 1
        cnt, val = j - i, value[order[i:j]].sum()
        frac = min(1.0, (k - taken) / cnt)
        got, taken, i = got + frac * val, taken + frac * cnt, j
    return got / value.sum()


def value_figures(files, column, X, y, tr, te):
    """A log-value regression on the won training rows against their median, scored on the won test rows, and
    the value tier 1 (the top 10% of test rows) captures ranked by probability times predicted value and by
    probability alone."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    d = pd.read_csv(files["accounts"], keep_default_na=False, na_values=[""])
    v = money(d[column]).values
    won_tr = tr[(y[tr] == 1) & (v[tr] > 0)]
    won_te = te[(y[te] == 1) & (v[te] > 0)]
    reg = HistGradientBoostingRegressor(random_state=0)
    reg.fit(X.iloc[won_tr], np.log(v[won_tr]))
    pred = reg.predict(X.iloc[won_te])
    truth = np.log(v[won_te])
    med = np.log(np.median(v[won_tr]))
    rmse = lambda p: round(float(np.sqrt(np.mean((p - truth) ** 2))), 6)
    clf = HistGradientBoostingClassifier(random_state=0)
    clf.fit(X.iloc[tr], y[tr])
    prob = clf.predict_proba(X.iloc[te])[:, 1]
    ev = prob * np.exp(reg.predict(X.iloc[te]))
    got = np.where((y[te] == 1) & (v[te] > 0), v[te], 0.0)
    return {"column": column, "won_train": int(len(won_tr)), "won_test": int(len(won_te)),
            "rmse_log": rmse(pred), "rmse_log_median": rmse(np.full(len(truth), med)),
            "tier1_share": 0.1, "tier1_captured_by_value": round(float(captured(ev, got, 0.1)), 6),
            "tier1_captured_by_probability": round(float(captured(prob, got, 0.1)), 6)}


def main():
    result = {
        "generator": "go run ./cmd/gen --dialect NAME --rows ROWS --seed SEED --out NAME.csv",
        "script": "scripts/reference-fixtures.py",
        "versions": {"scikit-learn": sklearn.__version__, "xgboost": xgboost.__version__,
                     "pandas": pd.__version__, "numpy": np.__version__},
        "models": {"hist_gradient_boosting": "HistGradientBoostingClassifier(random_state=0)",
                   "xgboost": "XGBClassifier(n_estimators=300, learning_rate=0.05, max_depth=4, random_state=0, "
                              "tree_method='hist')"},
        "dialects": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        gen = os.path.join(tmp, "gen")
        subprocess.run(["go", "build", "-o", gen, "./cmd/gen"], cwd=ROOT, check=True)
        for name, (rows, seed) in SIZES.items():
            out = os.path.join(tmp, name + ".csv")
            subprocess.run([gen, "--dialect", name, "--rows", str(rows), "--seed", str(seed), "--out", out],
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            files = {"accounts": out}
            if name == "twotable":
                files["opportunities"] = os.path.join(tmp, name + "_opportunities.csv")
            truth = os.path.join(tmp, name + "_truth.csv")
            sums = {os.path.basename(p): sha256(p) for p in list(files.values()) + [truth]}
            X, y, date, labeled, excluded = PREP[name](files)
            rows_l = np.flatnonzero(labeled)
            tr, te, desc = split(rows_l, y, date, seed)
            figures = fit_models(X.iloc[tr], y[tr], X.iloc[te], y[te])
            result["dialects"][name] = {
                "rows": rows, "seed": seed, "sha256": sums, "labeled": int(len(rows_l)),
                "positives": int(y[rows_l].sum()), "train": int(len(tr)), "test": int(len(te)),
                "test_positives": int(y[te].sum()), "split": desc, "features": int(X.shape[1]),
                "excluded": excluded, "test_metrics": figures,
            }
            if name in VALUE:
                result["dialects"][name]["value_metrics"] = value_figures(files, VALUE[name], X, y, tr, te)
            print(name, json.dumps(figures), file=sys.stderr)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
