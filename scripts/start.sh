#!/usr/bin/env bash
# Starts the WebConsole console on the embedded default (SQLite in data/, embedded ONNX Runtime host) at http://localhost:5000.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
wc_require_tools
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/Web/WebConsole.Web.csproj -c Release -nologo -v quiet
# The repository root is the content root: appsettings.json and data/ live here.
exec dotnet src/Web/bin/Release/net10.0/WebConsole.Web.dll "$@"
