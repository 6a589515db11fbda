#!/usr/bin/env bash
# The WebConsole benchmark: one command that builds what it needs, generates the models (cached), starts the real server,
# runs every suite on this machine, prints the table and writes bench/results/{results.json,results.md,chart.svg}.
#   bash bench/run.sh            the full run (about 30 minutes on 2 idle cores; run it on a quiet machine)
#   bash bench/run.sh --quick    a short smoke of every suite (figures are not meaningful)
# Options: --threads N (default: all cores)  --repeats N  --seconds N  --only embed,rerank,chat,gateway,scaling,limiter,ledger
#          --no-peer  --no-postgres  --out DIR
# Never part of CI: the harness is not in WebConsole.sln and scripts/test.sh does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
wc_require_tools
# PostgreSQL for the ledger suite (skipped with a note when it cannot be installed or --no-postgres is given).
if [[ " $* " != *" --no-postgres "* ]]; then
  (wc_apt_install postgresql) || echo "bench: PostgreSQL unavailable; the ledger suite measures SQLite only"
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "bench: building src/Web and bench/WebConsole.Bench (Release)..."
dotnet build src/Web/WebConsole.Web.csproj -c Release -nologo -v quiet
dotnet build bench/WebConsole.Bench/WebConsole.Bench.csproj -c Release -nologo -v quiet

exec dotnet bench/WebConsole.Bench/bin/Release/net10.0/WebConsole.Bench.dll \
  --web-dll "$PWD/src/Web/bin/Release/net10.0/WebConsole.Web.dll" "$@"
