#!/usr/bin/env bash
# The real Kafka clients the compatibility tests drive: install whatever is missing from
# Debian's packages in one apt call (npm clients come with npm ci).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
wanted=(kcat librdkafka-dev python3-confluent-kafka python3-kafka python3-snappy python3-lz4 python3-zstandard
  golang-go golang-github-shopify-sarama-dev gcc)
missing=()
for p in "${wanted[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "infra: installing ${missing[*]}"
  apt_install "${missing[@]}"
fi
