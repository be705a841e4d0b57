#!/usr/bin/env bash
# bench-score.sh measures batch scoring on one generated file, in one run:
#
#   - the score command's accounts per second, without and with the top
#     three attributions, against POST /v1/score/batch (CSV, the same
#     file, streamed with curl to a local serve);
#   - the score command's peak memory on ROWS accounts and on BIG accounts
#     (the file read BIG/ROWS times from standard input): bounded, it must
#     not grow with the input;
#   - the model as SQL (icpctl sql) materialising the scores of the same
#     file in DuckDB and PostgreSQL (go test -bench in ./sqlexport).
#
# Usage: scripts/bench-score.sh [ROWS] [BIG]      (defaults 1000000 10000000)
#
# Needs Go, curl and /usr/bin/time; PostgreSQL comes from
# scripts/postgres-test-server.sh when ICP_TEST_POSTGRES_URL is not set
# (skipped when it cannot start). Figures go to standard output as a
# Markdown table, with each path's ratio to the score command without
# attributions. KEEP=1 keeps the work directory.
set -euo pipefail
cd "$(dirname "$0")/.."

rows="${1:-1000000}"
big="${2:-10000000}"
(( big % rows == 0 )) || { echo "bench-score: BIG ($big) must be a multiple of ROWS ($rows)" >&2; exit 2; }
work="$(mktemp -d /tmp/icp-bench-score.XXXXXX)"
serve_pid=""
cleanup() {
	if [[ -n "$serve_pid" ]]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
	if [[ "${KEEP:-}" != 1 ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
log() { printf 'bench-score: %s\n' "$*" >&2; }

log "building into $work/bin"
go build -o "$work/bin/" ./cmd/score ./cmd/serve ./cmd/gen ./cmd/train
bin="$work/bin"
log "training the demo model on datasets/sample_accounts.csv"
"$bin/train" --data datasets/sample_accounts.csv --out "$work/model" --quiet >/dev/null
model="$work/model/model.json"
log "generating $rows accounts (seed 42)"
"$bin/gen" --rows "$rows" --seed 42 --out "$work/accounts.csv" --truth "$work/truth.csv" >/dev/null
data="$work/accounts.csv"

# timed CMD...: runs CMD under /usr/bin/time; sets secs and rss_mib.
timed() {
	/usr/bin/time -f '%e %M' -o "$work/time.txt" "$@"
	read -r secs kib <"$work/time.txt"
	rss_mib=$(( kib / 1024 ))
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

log "score, no attributions"
timed "$bin/score" --model "$model" --data "$data" --out "$work/scores.csv" --progress off
cli_rate=$(rate "$rows" "$secs"); cli_rss=$rss_mib
log "score --attributions 3"
timed "$bin/score" --model "$model" --data "$data" --out "$work/scores_attr.csv" --attributions 3 --progress off
attr_rate=$(rate "$rows" "$secs")

port=$(( 20000 + RANDOM % 20000 ))
log "serve on 127.0.0.1:$port"
"$bin/serve" --model "$model" --addr "127.0.0.1:$port" --allow-unauthenticated \
	--max-stream-bytes $(( 1 << 40 )) --stream-timeout 1h --log-format json 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
	sleep 0.1
done
http() { # http QUERY OUT: streams the file to the batch route
	curl -sf -X POST -T "$data" -H 'Content-Type: text/csv' -o "$2" -w '%{time_total}' \
		"http://127.0.0.1:$port/v1/score/batch$1"
}
log "POST /v1/score/batch?attributions=false"
secs=$(http '?attributions=false' "$work/http.csv")
http_rate=$(rate "$rows" "$secs")
log "POST /v1/score/batch (attributions)"
secs=$(http '' "$work/http_attr.csv")
http_attr_rate=$(rate "$rows" "$secs")
for f in http.csv http_attr.csv; do
	n=$(( $(wc -l <"$work/$f") - 1 ))
	[[ "$n" == "$rows" ]] || { log "$f holds $n rows, want $rows"; exit 1; }
done
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""

log "score on $big accounts from standard input (peak memory)"
times=$(( big / rows ))
{ cat "$data"; for _ in $(seq 2 "$times"); do tail -n +2 "$data"; done; } |
	timed "$bin/score" --model "$model" --data - --out - --progress off >/dev/null 2>"$work/big.log"
big_rate=$(rate "$big" "$secs"); big_rss=$rss_mib

if [[ -z "${ICP_TEST_POSTGRES_URL:-}" ]] && pg_env=$(scripts/postgres-test-server.sh 2>/dev/null); then
	eval "$pg_env"
fi
log "the model as SQL in DuckDB and PostgreSQL"
go test ./sqlexport -run '^$' -bench 'Query(DuckDB|Postgres)$' -benchtime 1x -count 1 \
	-args -sql.csv "$data" | tee "$work/sql.txt" >&2
sql_rate() { awk -v b="$1" '$1 ~ "^Benchmark" b "(-[0-9]+)?$" { for (i = 1; i < NF; i++) if ($(i + 1) == "accounts/s") print int($i) }' "$work/sql.txt"; }
duck_rate=$(sql_rate QueryDuckDB); pg_rate=$(sql_rate QueryPostgres)

ratio() { [[ -n "$1" ]] && awk -v a="$1" -v b="$cli_rate" 'BEGIN { printf "%.2f", a / b }' || echo "—"; }
cat <<EOF

$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $rows generated accounts (seed 42), demo model (boosted trees)

| path | accounts/s | × score CLI |
|---|---|---|
| score CLI, no attributions | $cli_rate | 1.00 |
| score CLI, --attributions 3 | $attr_rate | $(ratio "$attr_rate") |
| POST /v1/score/batch (CSV), attributions=false | $http_rate | $(ratio "$http_rate") |
| POST /v1/score/batch (CSV), with attributions | $http_attr_rate | $(ratio "$http_attr_rate") |
| SQL in DuckDB (CREATE TABLE AS) | ${duck_rate:-skipped} | $(ratio "$duck_rate") |
| SQL in PostgreSQL (CREATE TABLE AS) | ${pg_rate:-skipped} | $(ratio "$pg_rate") |

| score CLI peak RSS | accounts | MiB |
|---|---|---|
| file | $rows | $cli_rss |
| standard input | $big | $big_rss ($big_rate accounts/s) |
EOF
