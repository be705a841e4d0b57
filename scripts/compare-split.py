#!/usr/bin/python3
"""Compare the engine with scikit-learn and XGBoost on the engine's own split.

Usage: /usr/bin/python3 scripts/compare-split.py NAME MODEL_JSON SPLIT_CSV [NAME MODEL_JSON SPLIT_CSV ...]

Each SPLIT_CSV is what `train --holdout-out` writes: one row per closed deal
with its part (train or holdout), its label, the engine's calibrated holdout
probability, and every feature column as the engine read it. MODEL_JSON is
the artifact written beside it, whose schema gives each feature column's
role (numeric, date, boolean, categorical, tags) and a tag column's
separator. HistGradientBoostingClassifier and XGBoost are fitted on exactly
the train rows, with the engine's feature columns (categories one-hot, tags
multi-hot by their trimmed lower-case form, numbers, dates and booleans as
numbers, missing values as NaN), and scored on exactly the holdout rows.

It prints one Markdown table row per pair: name, outcome, rows, holdout
rows, then ROC AUC and log loss of the engine, HistGradientBoosting and
XGBoost, and the engine's differences to the best of the two references
(ROC AUC: engine minus best; log loss: engine minus best; the targets are
>= -0.01 and <= +0.005).
"""

import json
import re
import sys

import numpy as np
import pandas as pd
import xgboost
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss, roc_auc_score

HEADER = ("| file | outcome | rows | holdout | engine ROC AUC | engine log loss | HGB ROC AUC | HGB log loss "
          "| XGB ROC AUC | XGB log loss | Δ ROC AUC | Δ log loss |\n|---|---|---|---|---|---|---|---|---|---|---|---|")


def tag_key(t):
    return re.sub(r"\s+", " ", t.strip().lower())


def features(split, schema):
    """The feature matrix of the split file, as described in the module doc."""
    parts = []
    for c in schema["columns"]:
        role, name = c["role"], c["name"]
        if role not in ("numeric", "date", "boolean", "categorical", "tags"):
            continue
        s = split[name]
        if role in ("numeric", "date", "boolean"):
            parts.append(pd.to_numeric(s, errors="raise").astype(float).rename(name))
        elif role == "categorical":
            parts.append(pd.get_dummies(s.astype("object"), prefix=name, prefix_sep="=", dummy_na=False, dtype=float))
        else:
            sep = c.get("separator") or ";"
            tags = s.fillna("").astype(str).map(lambda v: sorted({tag_key(t) for t in v.split(sep) if t.strip()}))
            names = sorted({t for ts in tags for t in ts})
            m = pd.DataFrame({f"{name}={n}": tags.map(lambda ts, n=n: float(n in ts)) for n in names}, index=s.index)
            m[s.isna().values] = np.nan
            parts.append(m)
    return pd.concat(parts, axis=1)


def scores(y, p):
    return float(roc_auc_score(y, p)), float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)))


def compare(name, model_json, split_csv):
    with open(model_json) as f:
        prof = json.load(f)["profile"]
    split = pd.read_csv(split_csv, keep_default_na=False, na_values=[""], dtype={"part": str}, low_memory=False)
    for c in prof["schema"]["columns"]:
        if c["role"] in ("categorical", "tags") and c["name"] in split:
            split[c["name"]] = split[c["name"]].where(split[c["name"]].isna(), split[c["name"]].astype(str))
    X = features(split, prof["schema"])
    y = split["y"].astype(int).values
    tr = (split["part"] == "train").values
    te = (split["part"] == "holdout").values
    engine = scores(y[te], split.loc[te, "prob"].astype(float).values)
    hgb = HistGradientBoostingClassifier(random_state=0).fit(X[tr], y[tr])
    h = scores(y[te], hgb.predict_proba(X[te])[:, 1])
    xgb = xgboost.XGBClassifier(n_estimators=300, learning_rate=0.05, max_depth=4, random_state=0, n_jobs=2,
                                tree_method="hist").fit(X[tr], y[tr])
    x = scores(y[te], xgb.predict_proba(X[te])[:, 1])
    label = prof["label"]
    outcome = label.get("won_column") or label.get("churn_column") or "?"
    d_auc = engine[0] - max(h[0], x[0])
    d_ll = engine[1] - min(h[1], x[1])
    return (f"| {name} | {outcome} ({label['target']}) | {len(split)} | {int(te.sum())} "
            f"| {engine[0]:.4f} | {engine[1]:.4f} | {h[0]:.4f} | {h[1]:.4f} | {x[0]:.4f} | {x[1]:.4f} "
            f"| {d_auc:+.4f} | {d_ll:+.4f} |")


def main(args):
    if not args or len(args) % 3:
        sys.exit(__doc__)
    print(HEADER)
    for k in range(0, len(args), 3):
        print(compare(*args[k:k + 3]), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
