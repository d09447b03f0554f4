#!/usr/bin/env bash
# Install dependencies (only when the lockfile changed), generate and build everything.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.fjord-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-fund --no-audit
  cp package-lock.json "$stamp"
fi
# Prisma's client is generated (offline) rather than committed; the protocol codecs are committed.
npm run --silent db:generate >/dev/null
npm run --silent build
