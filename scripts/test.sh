#!/usr/bin/env bash
# Builds WebConsole and runs the whole test suite: unit tests, then the end-to-end tests (real server on loopback, real
# SQLite and PostgreSQL, real ONNX Runtime, headless Chromium). Installs chromium and postgresql from apt when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
wc_require_tools
wc_apt_install chromium postgresql
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build WebConsole.sln -c Release -nologo -v quiet

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
for project in tests/Unit/WebConsole.Unit.csproj tests/E2E/WebConsole.E2E.csproj; do
  dotnet test "$project" -c Release --no-build -nologo \
    --logger "console;verbosity=normal" --logger "trx;LogFilePrefix=$(basename "$project" .csproj)" \
    --results-directory "$results" "$@" || status=1
done

# One closing line over every project: "Tests: N passed, N failed, N skipped".
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${n:-0}))
done
[ "$passed" -eq 0 ] && status=1
# Name the failures last, so the tail of a long log says what broke.
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  grep -o '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$trx" | sed -n 's/.* testName="\([^"]*\)".*/FAILED: \1/p' || true
done
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit $status
