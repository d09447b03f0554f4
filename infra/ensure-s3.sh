#!/usr/bin/env bash
# Make sure an S3-compatible server answers on 127.0.0.1:${FJORD_S3_PORT:-4568}: s3rver (from npm, a
# dev dependency: the S3 REST API over local files) started in the background when nothing listens.
# Its data lives in ${FJORD_S3_DIR:-.service/s3}; credentials are s3rver's own (S3RVER / S3RVER).
# Buckets named in FJORD_S3_BUCKETS (comma-separated, default "fjord-sink") are made when it starts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
port=${FJORD_S3_PORT:-4568}
dir=${FJORD_S3_DIR:-$PWD/.service/s3}
ready() { curl -s -o /dev/null "http://127.0.0.1:$port/"; }

if ! ready 2>/dev/null; then
  [ -x node_modules/.bin/s3rver ] || { echo "infra: s3rver is not installed (npm ci)" >&2; exit 1; }
  mkdir -p "$dir" "$(dirname "$dir")/logs"
  buckets=()
  IFS=',' read -ra names <<<"${FJORD_S3_BUCKETS:-fjord-sink}"
  for b in "${names[@]}"; do buckets+=(--configure-bucket "$b"); done
  setsid nohup node_modules/.bin/s3rver -d "$dir" -a 127.0.0.1 -p "$port" --silent "${buckets[@]}" \
    >>"$(dirname "$dir")/logs/s3rver.log" 2>&1 </dev/null &
  wait_for 15 "s3rver on port $port" ready
fi
