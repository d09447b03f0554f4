#!/usr/bin/env bash
# Make sure Redis answers on 127.0.0.1:6379: start it, or install Debian's package first.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ready() { redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG; }

if ! command -v redis-server >/dev/null 2>&1; then
  echo "infra: installing Redis from Debian's packages"
  apt_install redis-server redis-tools
fi
if ! ready 2>/dev/null; then
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/fjord.log
  wait_for 15 Redis ready
fi
