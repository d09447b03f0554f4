#!/usr/bin/env bash
# A replicated cluster on this machine: set up, make sure PostgreSQL runs and is migrated, then
# start the brokers (arguments go to apps/broker/dist/cluster.js, e.g. --brokers 3 --zones 3); it prints
# each broker's address and Prometheus metrics URL (fjord.metrics.listen, http://127.0.0.i:19190+i/metrics).
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/setup.sh
bash infra/ensure-postgres.sh
npm run --silent db:migrate
exec node apps/broker/dist/cluster.js "$@"
