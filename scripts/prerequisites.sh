#!/usr/bin/env bash
# Checks the tools WebConsole's build needs and installs the system packages its tests need.
# Sourced by scripts/start.sh and scripts/test.sh; each missing piece stops with one line that names it.
set -euo pipefail

wc_fail() { echo "webconsole: $*" >&2; exit 1; }

wc_require_tools() {
  command -v dotnet >/dev/null 2>&1 || wc_fail "the .NET SDK (dotnet) is not on PATH: install the .NET 10 SDK"
  command -v node >/dev/null 2>&1 || wc_fail "Node.js (node) is not on PATH: install Node.js 20 (the build fetches ONNX Runtime from npm)"
  command -v npm >/dev/null 2>&1 || wc_fail "npm is not on PATH: install Node.js 20 with npm"
}

wc_apt_install() {
  # Installs Debian packages that are missing; CI runs as root, developers may need sudo.
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && { command -v sudo >/dev/null 2>&1 || wc_fail "need root or sudo to install: ${missing[*]}"; sudo="sudo"; }
  echo "webconsole: installing ${missing[*]} (apt)"
  $sudo apt-get update -qq >/dev/null || wc_fail "apt-get update failed: the Debian package registry could not be reached"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || wc_fail "apt-get install ${missing[*]} failed"
}
