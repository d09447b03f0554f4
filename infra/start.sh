#!/usr/bin/env bash
# The one run command: set up from nothing, then start a standalone Fjord broker on
# 127.0.0.1:9092 with its data under ./.data. Extra arguments go to the broker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/setup.sh
mkdir -p .data
exec node apps/broker/dist/main.js --config infra/config/standalone.properties "$@"
