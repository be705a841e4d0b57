#!/usr/bin/env bash
# load-bench.sh measures POST /v1/score of `serve` under load with wrk, next
# to a ceiling measured in the same run on the same machine: cmd/ceiling, a
# bare gin handler that decodes the same JSON and answers a constant. It
# prints requests per second, p50 and p99 latency for each, and serve's share
# of the ceiling's throughput (the target is at least 0.50).
#
# serve runs as in production: a model trained from datasets/sample_accounts.csv,
# API keys checked against a SQLite store (the bench key has the score scope),
# JSON access logs written to a file, every limit at its default except
# --max-in-flight, raised above the wrk connection count.
#
# When /usr/bin/python3 has fastapi, uvicorn, sklearn and pandas (Debian:
# apt-get install -y python3-fastapi python3-uvicorn python3-sklearn
# python3-pandas) and the reference benchmark directory exists
# ($SHARED_BENCH, default ../shared/bench beside the repository, holding
# sklearn_baseline.py and serve/fastapi_app.py), the script also fits a
# scikit-learn logistic regression on a generated 10,000-row table and
# measures the FastAPI + scikit-learn server on the same bodies. Without that
# directory it says so and skips it; point SHARED_BENCH at a copy of the
# reference benchmark to include it.
#
# serve and the ceiling run side by side and are measured in turn, ROUNDS
# times, so that a change in the machine's load affects both alike; the
# figures printed are the medians over the rounds.
#
# Each round also measures POST /v1/score/batch with JSON arrays of BATCH
# accounts (default 1000) over BATCH_CONNS connections, with attributions
# and with ?attributions=false, and reports accounts per second (requests
# per second times BATCH); the target is at least 200,000 accounts/s
# without attributions.
#
# Everything listens on 127.0.0.1 only and every wrk run is bounded in time.
#
# Usage:   scripts/load-bench.sh
# Environment:
#   DURATION   wrk duration per server and round (default 10s)
#   ROUNDS     rounds of ceiling then serve (default 3)
#   THREADS    wrk threads (default 2)
#   CONNS      wrk connections (default 32)
#   BASE_PORT  first of the three loopback ports used (default 18480)
#   BATCH      accounts per batch request (default 1000; 0 skips the batch runs)
#   BATCH_CONNS  wrk connections of the batch runs (default 8)
#   FASTAPI_WORKERS  uvicorn workers (default 2)
#   SHARED_BENCH, PY  see above (PY default /usr/bin/python3)
# Needs: go, wrk (apt-get install -y wrk), curl.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
BASE_PORT="${BASE_PORT:-18480}"
BATCH="${BATCH:-1000}"
BATCH_CONNS="${BATCH_CONNS:-8}"
FASTAPI_WORKERS="${FASTAPI_WORKERS:-2}"
SHARED_BENCH="${SHARED_BENCH:-$repo/../shared/bench}"
PY="${PY:-/usr/bin/python3}"
LUA="$repo/scripts/load-bench.lua"

log() { printf 'load-bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

command -v wrk >/dev/null || die "wrk not found: apt-get install -y wrk"
command -v curl >/dev/null || die "curl not found: apt-get install -y curl"

tmp=$(mktemp -d /tmp/icp-load-bench.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# A sample body for the readiness check, the first of the Lua script.
sample_body=$(sed -n 's/^  \[\[\(.*\)\]\],$/\1/p' "$LUA" | head -1)

# wait_up URL [KEY]: waits until URL answers a scoring request with 200.
wait_up() {
	local url=$1 key=${2:-} i code body=$sample_body
	case $url in */batch*) body="[$sample_body]" ;; esac
	for i in $(seq 1 150); do
		code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
			${key:+-H "Authorization: Bearer $key"} -d "$body" "$url" || true)
		[ "$code" = 200 ] && return 0
		sleep 0.2
	done
	return 1
}

# bench NAME URL [KEY [BATCH]]: runs wrk and appends "name rps p50_us p99_us
# non2xx" to $tmp/results; with BATCH > 0 each request is a JSON array of
# BATCH accounts, sent over BATCH_CONNS connections.
bench() {
	local name=$1 url=$2 key=${3:-} batch=${4:-0} conns=$CONNS
	[ "$batch" -gt 0 ] && conns=$BATCH_CONNS
	if ! wait_up "$url" "$key"; then
		log "$name did not answer 200 at $url; skipped"
		return
	fi
	log "$name: wrk -t$THREADS -c$conns -d$DURATION $url"
	BATCH="$batch" ICP_KEY="$key" timeout 120 wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency -s "$LUA" "$url" >"$tmp/wrk-$name.txt" 2>&1 ||
		{ log "wrk failed for $name:"; cat "$tmp/wrk-$name.txt" >&2; return; }
	awk -v name="$name" '
		function us(v,   n, u) {
			n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
			if (u == "us") return n
			if (u == "ms") return n * 1000
			if (u == "s") return n * 1000000
			return n
		}
		$1 == "50%" { p50 = us($2) }
		$1 == "99%" { p99 = us($2) }
		/^Requests\/sec:/ { rps = $2 }
		/Non-2xx or 3xx responses:/ { bad = $NF }
		END { printf "%s %s %.0f %.0f %d\n", name, rps, p50, p99, bad + 0 }
	' "$tmp/wrk-$name.txt" >>"$tmp/results"
}

log "building serve, ceiling, train, icpctl and gen"
go build -o "$tmp/bin/" ./cmd/serve ./cmd/ceiling ./cmd/train ./cmd/icpctl ./cmd/gen

log "training on datasets/sample_accounts.csv"
"$tmp/bin/train" --data datasets/sample_accounts.csv --out "$tmp/model" >"$tmp/train.log" 2>&1 ||
	{ cat "$tmp/train.log" >&2; die "train failed"; }
key=$("$tmp/bin/icpctl" keys create --db "$tmp/icp.db" --name load-bench --scopes score 2>/dev/null)

serve_port=$BASE_PORT
ceiling_port=$((BASE_PORT + 1))
fastapi_port=$((BASE_PORT + 2))
: >"$tmp/results"

"$tmp/bin/ceiling" --addr "127.0.0.1:$ceiling_port" 2>"$tmp/ceiling.log" &
pids+=($!)
"$tmp/bin/serve" --model "$tmp/model/model.json" --addr "127.0.0.1:$serve_port" --db "$tmp/icp.db" \
	--log-format json --max-in-flight 1024 2>"$tmp/serve.log" &
pids+=($!)
# A port taken by another process would send the requests elsewhere.
for i in $(seq 1 100); do
	grep -q '"msg":"serving"' "$tmp/serve.log" && break
	kill -0 "${pids[-1]}" 2>/dev/null || { cat "$tmp/serve.log" >&2; die "serve exited (is port $serve_port taken? set BASE_PORT)"; }
	sleep 0.1
done
for round in $(seq 1 "$ROUNDS"); do
	log "round $round of $ROUNDS"
	bench ceiling "http://127.0.0.1:$ceiling_port/v1/score"
	bench serve "http://127.0.0.1:$serve_port/v1/score" "$key"
	if [ "$BATCH" -gt 0 ]; then
		bench batch "http://127.0.0.1:$serve_port/v1/score/batch" "$key" "$BATCH"
		bench batch_noattr "http://127.0.0.1:$serve_port/v1/score/batch?attributions=false" "$key" "$BATCH"
	fi
done

# Stop serve and the ceiling before the reference runs.
for p in "${pids[@]}"; do
	kill -TERM "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
done
pids=()

fastapi_note=""
if [ ! -f "$SHARED_BENCH/sklearn_baseline.py" ] || [ ! -f "$SHARED_BENCH/serve/fastapi_app.py" ]; then
	fastapi_note="FastAPI + scikit-learn reference skipped: $SHARED_BENCH/sklearn_baseline.py and serve/fastapi_app.py not found (set SHARED_BENCH to the reference benchmark directory)"
elif ! "$PY" -c 'import fastapi, uvicorn, sklearn, pandas, joblib' 2>/dev/null; then
	fastapi_note="FastAPI + scikit-learn reference skipped: $PY lacks fastapi, uvicorn, sklearn, pandas or joblib (apt-get install -y python3-fastapi python3-uvicorn python3-sklearn python3-pandas)"
else
	log "fitting the scikit-learn reference (logistic regression, 10,000 generated rows)"
	"$tmp/bin/gen" --rows 10000 --seed 42 --out "$tmp/accounts_10k.csv" >/dev/null 2>&1
	if "$PY" "$SHARED_BENCH/sklearn_baseline.py" "$tmp/accounts_10k.csv" --models lr --save-models "$tmp/py" \
		>"$tmp/sklearn.log" 2>&1 && [ -f "$tmp/py/lr_accounts_10k.joblib" ]; then
		MODEL_PATH="$tmp/py/lr_accounts_10k.joblib" "$PY" -m uvicorn fastapi_app:app --app-dir "$SHARED_BENCH/serve" \
			--host 127.0.0.1 --port "$fastapi_port" --workers "$FASTAPI_WORKERS" --no-access-log --log-level warning \
			2>"$tmp/fastapi.log" &
		pids+=($!)
		bench fastapi_sklearn_lr "http://127.0.0.1:$fastapi_port/v1/score"
		kill -TERM "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
	else
		cat "$tmp/sklearn.log" >&2
		fastapi_note="FastAPI + scikit-learn reference skipped: sklearn_baseline.py failed"
	fi
fi

echo
echo "POST /v1/score, wrk -t$THREADS -c$CONNS -d$DURATION, loopback, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "each round, ceiling then serve (req/s):"
awk '{ runs[$1] = runs[$1] " " $2 } END { for (n in runs) printf "  %-20s%s\n", n, runs[n] }' "$tmp/results" | sort
# The median of each column per server, over the rounds.
for name in ceiling serve fastapi_sklearn_lr batch batch_noattr; do
	grep "^$name " "$tmp/results" >"$tmp/r" || continue
	row="$name"
	for col in 2 3 4; do
		row="$row $(cut -d' ' -f"$col" "$tmp/r" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
	done
	row="$row $(awk '{ s += $5 } END { print s + 0 }' "$tmp/r")"
	echo "$row"
done >"$tmp/medians"
awk '
	BEGIN { printf "%-40s %10s %10s %10s %8s\n", "server (medians)", "req/s", "p50 ms", "p99 ms", "non-2xx" }
	$1 ~ /^batch/ { batch[$1] = $0; nbatch++; next }
	{
		label[$1] = $1
		if ($1 == "ceiling") label[$1] = "ceiling (gin, decode + constant)"
		if ($1 == "serve") label[$1] = "serve (model, attributions, auth, logs)"
		if ($1 == "fastapi_sklearn_lr") label[$1] = "FastAPI + scikit-learn LR"
		printf "%-40s %10.0f %10.2f %10.2f %8d\n", label[$1], $2, $3 / 1000, $4 / 1000, $5
		rps[$1] = $2
	}
	END {
		if (rps["ceiling"] > 0 && rps["serve"] > 0) {
			r = rps["serve"] / rps["ceiling"]
			printf "serve / ceiling throughput: %.2f (target >= 0.50: %s)\n", r, (r >= 0.5 ? "met" : "NOT met")
		}
		if (rps["fastapi_sklearn_lr"] > 0 && rps["serve"] > 0)
			printf "serve / FastAPI + scikit-learn: %.1fx\n", rps["serve"] / rps["fastapi_sklearn_lr"]
		if (nbatch > 0) {
			printf "\nPOST /v1/score/batch, %d accounts per request, wrk -t%d -c%d (medians)\n", n, threads, conns
			printf "%-40s %10s %12s %10s %10s %8s\n", "batch", "req/s", "accounts/s", "p50 ms", "p99 ms", "non-2xx"
		}
		for (name in batch) {
			split(batch[name], f, " ")
			acc[name] = f[2] * n
			printf "%-40s %10.1f %12.0f %10.2f %10.2f %8d\n", (name == "batch" ? "with attributions" : "attributions=false"),
				f[2], acc[name], f[3] / 1000, f[4] / 1000, f[5]
		}
		if ("batch_noattr" in acc)
			printf "batch accounts/s without attributions: %.0f (target >= 200000: %s)\n", acc["batch_noattr"],
				(acc["batch_noattr"] >= 200000 ? "met" : "NOT met")
	}
' n="$BATCH" threads="$THREADS" conns="$BATCH_CONNS" "$tmp/medians"
[ -z "$fastapi_note" ] || echo "$fastapi_note"
if grep -q '"level":"ERROR"' "$tmp/serve.log" 2>/dev/null; then
	log "serve logged errors:"
	grep '"level":"ERROR"' "$tmp/serve.log" | head -5 >&2
fi
