#!/usr/bin/env bash
# Runs the official MCP conformance suite (client authorization) against conformance/client.ts.
# The suite needs Node 22: the `node@22` npm package provides it without a system change; the
# client it starts then runs on Node 22 too (the library must work on 20 and 22).
# Zero failures and zero warnings, no expected-failures baseline. Results: conformance-results/.
set -uo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.conformance.json || exit 1
out=conformance-results
rm -rf "$out" && mkdir -p "$out"
client="node .conformance-build/conformance/client.js"
status=0
for suite in auth backcompat draft; do
  if ! npx -y -p node@22 -p @modelcontextprotocol/conformance@0.1.16 -c \
    "conformance client --command '$client' --suite $suite --timeout 30000 -o $out/$suite" >"$out/$suite.log" 2>&1; then
    status=1
  fi
  echo "== suite $suite"
  sed -n '/=== SUITE SUMMARY ===/,$p' "$out/$suite.log" | grep -v '^=== SUITE SUMMARY ===' | sed '/^$/d'
done
[ "$status" -eq 0 ] && echo "conformance: all scenarios passed with no warnings" || echo "conformance: FAILED (see $out/*.log)"
exit "$status"
