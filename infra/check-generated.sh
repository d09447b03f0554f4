#!/usr/bin/env bash
# Fails when the committed protocol codecs differ from what the generator makes of the schema data
# (someone edited generated code by hand, or changed the generator or the schemas without regenerating).
set -euo pipefail
cd "$(dirname "$0")/.."
schemas="${FJORD_KAFKA_PROTOCOL_DIR:-../shared/kafka-protocol}"
if [ ! -d "$schemas" ]; then
  echo "check-generated: no schema data at $schemas (set FJORD_KAFKA_PROTOCOL_DIR)" >&2
  exit 1
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
FJORD_PROTOCOL_GENERATED_DIR="$out" npx tsx packages/protocol/scripts/generate.ts >/dev/null
if ! diff -r "$out" packages/protocol/src/generated >/dev/null; then
  diff -r "$out" packages/protocol/src/generated | head -40 >&2 || true
  echo "check-generated: packages/protocol/src/generated is not what the generator makes; run npm run generate -w @fjord/protocol" >&2
  exit 1
fi
echo "check-generated: protocol codecs match the generator"
