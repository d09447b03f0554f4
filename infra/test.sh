#!/usr/bin/env bash
# The one test command: set up from nothing, make sure services and real clients exist, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/setup.sh
bash infra/ensure-postgres.sh
bash infra/ensure-redis.sh
bash infra/ensure-clients.sh
bash infra/ensure-monitoring.sh
npm run --silent db:migrate
npx vitest run "$@"
