#!/usr/bin/env bash
# Broker throughput benchmark: builds the native load generator, measures the loopback TCP
# ceiling, starts a standalone broker, then produces and consumes 100 B and 1 KiB messages
# with acks=1 and acks=all. Prints a Markdown table. Usage: bash test/bench/run-loadgen.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=.tmp/bench
mkdir -p "$OUT"
gcc -O2 -o "$OUT/loadgen" test/bench/loadgen.c -lrdkafka -lpthread
PORT=${PORT:-19999}
DATA=$(mktemp -d /tmp/fjord-bench-XXXX)
node apps/broker/dist/main.js --listen 127.0.0.1:$PORT --data-dir "$DATA" --override num.partitions=1 >"$OUT/broker.log" 2>&1 &
BROKER=$!
trap 'kill $BROKER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 50); do (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

tcp=$("$OUT/loadgen" tcp 4294967296)
echo "| workload | msgs/s | MB/s | p50 ms | p99 ms | % of TCP ceiling |"
echo "|---|---:|---:|---:|---:|---:|"
ceiling=$(echo "$tcp" | sed -E 's/.*"mb_per_s":([0-9.]+).*/\1/')
echo "| raw loopback TCP, one stream (ceiling) | — | $ceiling | — | — | 100 |"
row() { # label json
  local j=$2 msgs mb p50 p99
  msgs=$(echo "$j" | sed -E 's/.*"msgs_per_s":([0-9.]+).*/\1/')
  mb=$(echo "$j" | sed -E 's/.*"mb_per_s":([0-9.]+).*/\1/')
  p50=$(echo "$j" | grep -q p50_ms && echo "$j" | sed -E 's/.*"p50_ms":([0-9.]+).*/\1/' || echo —)
  p99=$(echo "$j" | grep -q p99_ms && echo "$j" | sed -E 's/.*"p99_ms":([0-9.]+).*/\1/' || echo —)
  echo "| $1 | $msgs | $mb | $p50 | $p99 | $(awk -v a="$mb" -v b="$ceiling" 'BEGIN{printf "%.0f", 100*a/b}') |"
}
for size in 100 1024; do
  count=$(( size == 100 ? 2000000 : 500000 ))
  for acks in 1 all; do
    topic="bench-$size-$acks"
    row "produce ${size} B, acks=$acks" "$("$OUT/loadgen" produce 127.0.0.1:$PORT $topic $count $size $acks)"
  done
  row "consume ${size} B" "$("$OUT/loadgen" consume 127.0.0.1:$PORT bench-$size-1 $count)"
done
