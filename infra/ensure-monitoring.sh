#!/usr/bin/env bash
# Make sure Debian's Prometheus and Alertmanager are installed. They are not started here: the
# service (and each test) runs its own with the configuration the control plane generates.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
if [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/prometheus-alertmanager ]; then
  echo "infra: installing Prometheus and Alertmanager from Debian's packages"
  # Debian's packages would start their own daemons on the default ports where an init system
  # runs; policy-rc.d keeps them from starting while they install.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod +x /usr/sbin/policy-rc.d
    trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt_install prometheus prometheus-alertmanager
fi
