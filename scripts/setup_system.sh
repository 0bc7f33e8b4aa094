#!/usr/bin/env bash
# System packages easel needs from Debian. Installs only what is missing; a no-op when all are there.
set -euo pipefail
packages=()
missing() { ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in "$@"; do missing "$pkg" && packages+=("$pkg"); done
if [ ${#packages[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}"
fi
