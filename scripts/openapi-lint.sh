#!/usr/bin/env bash
# openapi-lint.sh lints server/openapi.json with Redocly CLI and its
# recommended rules: any error fails, warnings are printed. Redocly is
# installed with npm into a temporary directory that is removed afterwards,
# so nothing lands in the repository.
#
# Usage:   scripts/openapi-lint.sh
# Environment:
#   REDOCLY_VERSION  the @redocly/cli version (default 2.77.0)
# Needs: npm (apt-get install -y npm) and network access to the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

REDOCLY_VERSION="${REDOCLY_VERSION:-2.77.0}"
command -v npm >/dev/null || { echo "openapi-lint: npm not found: apt-get install -y npm" >&2; exit 1; }

tmp=$(mktemp -d /tmp/icp-openapi-lint.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error "@redocly/cli@$REDOCLY_VERSION" >&2
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	"$tmp/node_modules/.bin/redocly" lint --format=stylish server/openapi.json
