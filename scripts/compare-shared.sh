#!/bin/sh
# Trains every CSV file of a folder (default ../shared/datasets, searched
# recursively) with no schema file, then fits scikit-learn's
# HistGradientBoosting and XGBoost on exactly the engine's training rows and
# feature columns and scores them on exactly its holdout
# (scripts/compare-split.py), and prints one Markdown table: file, outcome,
# rows, engine ROC AUC and log loss beside the two references'.
#
#   scripts/compare-shared.sh [FOLDER] [-- extra train flags, e.g. --label won]
#
# A file train refuses (no outcome column, a single class) is listed under
# the table with train's error. Needs Go and /usr/bin/python3 with
# scikit-learn, XGBoost and pandas.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-../shared/datasets}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/train" ./cmd/train
args=""
refused=""
for f in $(find "$dir" -name '*.csv' | sort); do
	name=$(basename "$f" .csv)
	out="$work/$name"
	mkdir -p "$out"
	if "$work/train" --data "$f" --out "$out" --quiet --holdout-out "$out/split.csv" "$@" >"$work/$name.log" 2>&1; then
		args="$args $name $out/model.json $out/split.csv"
	else
		refused="$refused
- $f: $(tail -n 1 "$work/$name.log")"
	fi
done
# shellcheck disable=SC2086 # names hold no spaces: they are CSV base names
[ -n "$args" ] && /usr/bin/python3 scripts/compare-split.py $args
if [ -n "$refused" ]; then
	printf '\nNot trained:%s\n' "$refused"
fi
