#!/usr/bin/env bash
# Make sure Debian's Chromium is installed: the console's browser tests drive it through
# playwright-core (which downloads no browser of its own).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
if [ ! -x /usr/bin/chromium ]; then
  echo "infra: installing Chromium from Debian's packages"
  apt_install chromium
fi
