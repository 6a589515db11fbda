#!/usr/bin/env bash
# The long reliability run: the mixed-load test of the test suite (64 concurrent clients: embeddings, sparse, rerank, chat
# over SSE on both surfaces and the SignalR hub, endpoint CRUD, usage queries) for ten minutes instead of one, plus the
# fault and hostile-input tests. Prints the figures at the end; they are also written to artifacts/reliability/load.json.
# Not part of CI.
#   bash scripts/soak.sh            # ten minutes
#   bash scripts/soak.sh 1800       # another length, in seconds
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
wc_require_tools
wc_apt_install chromium postgresql
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export WEBCONSOLE_LOAD_SECONDS="${1:-600}"

dotnet build tests/E2E/WebConsole.E2E.csproj -c Release -nologo -v quiet
dotnet test tests/E2E/WebConsole.E2E.csproj -c Release --no-build -nologo \
  --filter "FullyQualifiedName~WebConsole.E2E.Reliability" --logger "console;verbosity=detailed" | grep -v '^\s*$' | tail -40
echo "Figures: artifacts/reliability/load.json"
