#!/usr/bin/env bash
# The one test command: set up from nothing, make sure services and real clients exist, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/setup.sh
# Static checks first (well under a minute): the build type-checks src; this type-checks the tests
# and scripts, lints, and checks that the committed codecs are what the generator makes.
npx tsc -p tsconfig.test.json
npm run --silent lint
bash infra/check-generated.sh
bash infra/ensure-postgres.sh
bash infra/ensure-redis.sh
bash infra/ensure-clients.sh
bash infra/ensure-monitoring.sh
bash infra/ensure-chromium.sh
npm run --silent db:migrate
npx vitest run "$@"
