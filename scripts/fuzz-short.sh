#!/usr/bin/env bash
# fuzz-short.sh runs every fuzz target of the module for a short time each,
# one after the other, and fails on the first crash. A crasher is written by
# `go test` under the package's testdata/fuzz/FuzzXxx/ directory: commit it,
# so that plain `go test` replays it forever after.
#
# Usage:   scripts/fuzz-short.sh            # 10 s per target
#          FUZZTIME=1m scripts/fuzz-short.sh
#          scripts/fuzz-short.sh server     # only the targets of ./server
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
only="${1:-}"

# Every "dir FuzzName" pair, from the _test.go files that define targets.
mapfile -t targets < <(grep -rHoE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . |
	sed -E 's|^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)$|\1 \2|' | sort)
[ "${#targets[@]}" -gt 0 ] || { echo "fuzz-short: no fuzz targets found" >&2; exit 1; }

failed=0
for t in "${targets[@]}"; do
	read -r dir fn <<<"$t"
	pkg="./${dir#./}"
	if [ -n "$only" ] && [ "${dir#./}" != "$only" ]; then
		continue
	fi
	echo "== $fn in $pkg for $fuzztime"
	if ! go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$fuzztime" "$pkg"; then
		echo "fuzz-short: $fn in $pkg failed; the input is under ${dir#./}/testdata/fuzz/$fn/" >&2
		failed=1
	fi
done
exit "$failed"
