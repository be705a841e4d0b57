#!/usr/bin/env bash
# bench-compare: this project's trainer and scorer beside the scikit-learn /
# XGBoost reference on the same CSV, each model in its own process under
# /usr/bin/time -v for peak memory. Prints one table with ratios.
#
#   scripts/bench-compare.sh [SIZE ...]     SIZE: 10k, 100k, 1m or a row count (default: 10k 100k)
#
# Environment:
#   SEED       generator seed (default 42)
#   REF        the reference benchmark folder (default: ../shared/bench beside the repo)
#   PY         the Python with scikit-learn, XGBoost and pandas (default /usr/bin/python3)
#   OUT        where tables and results go (default bench/results)
#
# The reference needs: apt-get install -y python3-sklearn python3-xgboost python3-pandas
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${SEED:-42}
ref=${REF:-../shared/bench}
py=${PY:-/usr/bin/python3}
out=${OUT:-bench/results}
mkdir -p "$out" bench/data
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10k 100k)

have_ref=1
if [ ! -f "$ref/sklearn_baseline.py" ]; then
  have_ref=0
  echo "note: the reference benchmark is not at $ref; set REF=/path/to/shared/bench" >&2
  echo "      (it is the scikit-learn/XGBoost script sklearn_baseline.py with icp_features.py)." >&2
  echo "      Only this project's figures are printed." >&2
elif ! "$py" -c 'import sklearn, xgboost, pandas' 2>/dev/null; then
  have_ref=0
  echo "note: $py lacks scikit-learn, XGBoost or pandas: apt-get install -y python3-sklearn python3-xgboost python3-pandas" >&2
fi
[ -x /usr/bin/time ] || { echo "bench-compare needs /usr/bin/time (apt-get install -y time)" >&2; exit 1; }

go build -o bin/ ./cmd/gen ./cmd/icpbench

rows_of() {
  case "$1" in
    *k) echo $(( ${1%k} * 1000 )) ;;
    *m) echo $(( ${1%m} * 1000000 )) ;;
    *) echo "$1" ;;
  esac
}

# measure NAME CMD...: runs CMD under /usr/bin/time -v, appends its JSON lines
# with the process's peak RSS to $res.
measure() {
  local tf; tf=$(mktemp)
  /usr/bin/time -v -o "$tf" "$@" > "$tf.out" 2>> "$out/bench.log" || { cat "$tf" >> "$out/bench.log"; echo "failed: $*" >&2; return 1; }
  local peak; peak=$(awk -F': ' '/Maximum resident set size/{print $2}' "$tf")
  while IFS= read -r line; do
    [ -n "$line" ] && printf '%s\n' "${line%\}},\"peak_rss_mb\":$((peak / 1024))}" >> "$res"
  done < "$tf.out"
  rm -f "$tf" "$tf.out"
}

for size in "${sizes[@]}"; do
  n=$(rows_of "$size")
  csv=bench/data/accounts_${size}_s${seed}.csv
  [ -f "$csv" ] || bin/gen --rows "$n" --seed "$seed" --out "$csv" >&2
  res=$out/compare_${size}_s${seed}.jsonl
  : > "$res"
  echo "== $size rows (seed $seed): $csv" >&2
  for m in logistic gbm; do
    measure bin/icpbench --data "$csv" --models "$m" --seed 1
  done
  if [ $have_ref = 1 ]; then
    for m in lr hgb xgb; do
      measure "$py" "$ref/sklearn_baseline.py" "$csv" --models "$m"
    done
  fi
  "$py" - "$res" "$size" <<'PY'
import json, sys
path, size = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(path) if l.strip()]
by = {r["model"]: r for r in rows}
name = {"logistic": "icp logistic", "gbm": "icp gbm", "lr": "sklearn LogisticRegression",
        "hgb": "sklearn HistGradientBoosting", "xgb": "XGBoost hist 300"}
def us_batch(r):  # featurise + predict, per row
    if "pipeline_us_per_row" in r: return r["pipeline_us_per_row"]
    return r["pipeline_predict_s"] / r["n_test"] * 1e6
def f(v, nd): return "–" if v is None else f"{v:.{nd}f}"
print(f"\n### {size} rows ({rows[0]['rows']} accounts, {rows[0]['n_test']} in the newest-20% holdout)\n")
print("| model | fit s | batch µs/row (featurise + predict) | single score p50 / p99 µs | ROC AUC | PR AUC | log loss | Brier | peak RSS MiB |")
print("|---|---|---|---|---|---|---|---|---|")
for k in ["logistic", "gbm", "lr", "hgb", "xgb"]:
    r = by.get(k)
    if not r: continue
    single = f"{r['single_row_us_p50']:.0f} / {r['single_row_us_p99']:.0f}"
    print(f"| {name[k]} | {f(r.get('fit_s'),2)} | {f(us_batch(r),2)} | {single} | {r['auc']:.4f} | {r['pr_auc']:.4f} | {r['logloss']:.4f} | {r['brier']:.4f} | {r['peak_rss_mb']} |")
g = by.get("gbm")
refs = [by[k] for k in ("hgb", "xgb") if k in by]
if g and refs:
    best = max(refs, key=lambda r: r["auc"])
    bestll = min(refs, key=lambda r: r["logloss"])
    print(f"\nicp gbm vs best reference ({name[best['model']]}): ROC AUC {g['auc'] - best['auc']:+.4f}; "
          f"log loss {g['logloss'] - bestll['logloss']:+.4f} vs {name[bestll['model']]}")
    if "xgb" in by:
        x = by["xgb"]
        print(f"vs XGBoost: fit time ×{g['fit_s'] / x['fit_s']:.2f}, batch µs/row ×{us_batch(g) / us_batch(x):.2f}, "
              f"single score p99 ×{g['single_row_us_p99'] / x['single_row_us_p99']:.3f}, peak RSS ×{g['peak_rss_mb'] / x['peak_rss_mb']:.2f}")
l = by.get("logistic"); lr = by.get("lr")
if l and lr:
    print(f"icp logistic vs sklearn LogisticRegression: ROC AUC {l['auc'] - lr['auc']:+.4f}, log loss {l['logloss'] - lr['logloss']:+.4f}")
PY
done
