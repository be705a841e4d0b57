#!/usr/bin/env bash
# demo: train on the bundled sample, serve the model with a store, score one
# account, then replay a drifted stream of outcomes (a new winning segment
# appears) and print the alerts it raised.
# Environment: ADDR (default 127.0.0.1:8080), OUT (default models/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
addr=${ADDR:-127.0.0.1:8080}
out=${OUT:-models/demo}

echo "== build"
go build -o bin/ ./cmd/train ./cmd/serve ./cmd/gen ./cmd/replay

echo "== train on datasets/sample_accounts.csv"
bin/train --data datasets/sample_accounts.csv --out "$out" --quiet

echo
echo "== serve $out/model.json on $addr with the store $out/icp.db (no API keys: local demo)"
rm -f "$out/icp.db" "$out/icp.db-wal" "$out/icp.db-shm"
bin/serve --model "$out/model.json" --addr "$addr" --db "$out/icp.db" --drift-interval 1s --allow-unauthenticated 2>"$out/serve.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if curl -fsS "http://$addr/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$out/serve.log" >&2; exit 1; fi
  sleep 0.1
done
curl -fsS "http://$addr/readyz" >/dev/null

body='{"account_id":"DEMO-1","industry":"SaaS","employees":180,"annual_revenue_usd":"$24,000,000","country":"US","region":"NA","founded_year":2016,"funding_stage":"Series B","business_model":"B2B SaaS","tech_stack":["hubspot","aws","segment","slack"],"web_visits_30d":140,"trial_users":6,"support_tickets_90d":2}'
echo
echo "\$ curl -s -X POST http://$addr/v1/score -H 'Content-Type: application/json' -d '$body'"
curl -fsS -X POST "http://$addr/v1/score" -H 'Content-Type: application/json' -d "$body" | python3 -m json.tool
echo
echo "== replay a drifted stream: its accounts are scored, then their deals close; Logistics enterprises on snowflake start winning in 2024"
bin/gen --rows 4000 --seed 11 --emerging --emerging-from 2024-01-01 --out "$out/stream.csv" >/dev/null
bin/replay --model "$out/model.json" --data "$out/stream.csv" --url "http://$addr"
sleep 2.5 # two drift evaluations

echo
echo "\$ curl -s http://$addr/v1/alerts?status=open"
curl -fsS "http://$addr/v1/alerts?status=open" | python3 -c '
import json, sys
alerts = json.load(sys.stdin)["alerts"]
print(f"{len(alerts)} open alert(s)")
for a in alerts:
    print("- [%s] %s" % (a["severity"], a.get("title") or a["summary"]))
    print("  %s" % a["summary"])
    print("  What to do: %s" % a.get("action", ""))
    print("  id %s" % a["id"])
if not alerts:
    sys.exit("no alert was raised")
'
echo
echo "dashboard: http://$addr/dashboard"
echo "report: $out/report.md   server log: $out/serve.log"
if [ -t 0 ]; then
  echo "serving on http://$addr until Ctrl-C"
  wait "$pid"
fi
