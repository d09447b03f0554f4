#!/usr/bin/env bash
# Replicated-cluster benchmark: 3 brokers in 3 AZs (RF=3, min.insync.replicas=2) against a
# standalone broker measured in the same run with the same load (3 partitions, librdkafka
# open-loop producer), plus unloaded one-at-a-time latency and the failover times of the
# replication test. Prints Markdown. Usage: bash test/bench/run-cluster-bench.sh
# Needs PostgreSQL (infra/ensure-postgres.sh) and a build (npm run build).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=.tmp/bench
mkdir -p "$OUT"
gcc -O2 -o "$OUT/loadgen" test/bench/loadgen.c -lrdkafka -lpthread
PY=/usr/bin/python3
DB=fjord_bench_$$
psql -h 127.0.0.1 -U postgres -qc "create database $DB"
export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$DB
node packages/db/dist/cli/migrate.js >/dev/null
DATA=$(mktemp -d /tmp/fjord-cbench-XXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  psql -h 127.0.0.1 -U postgres -qc "drop database if exists $DB with (force)" || true
  rm -rf "$DATA"
}
trap cleanup EXIT

SPORT=${SPORT:-19998}
node apps/broker/dist/main.js --listen 127.0.0.1:$SPORT --data-dir "$DATA/standalone" --override num.partitions=3 \
  >"$OUT/standalone.log" 2>&1 &
PIDS+=($!)
node apps/broker/dist/cluster.js --brokers 3 --zones 3 --data-dir "$DATA/cluster" --base-port 29190 \
  --override num.partitions=3 --override default.replication.factor=3 --override min.insync.replicas=2 \
  >"$OUT/cluster.log" 2>&1 &
PIDS+=($!)
CLUSTER=127.0.0.1:29191,127.0.0.2:29192,127.0.0.3:29193
for _ in $(seq 1 100); do grep -q "bootstrap servers" "$OUT/cluster.log" && break; sleep 0.2; done
for _ in $(seq 1 50); do (echo >/dev/tcp/127.0.0.1/$SPORT) 2>/dev/null && break; sleep 0.1; done

field() { echo "$1" | sed -E "s/.*\"$2\":([0-9.]+).*/\1/"; }
echo "| workload | standalone msgs/s | standalone MB/s | cluster msgs/s | cluster MB/s | cluster / standalone | cluster p50 ms | cluster p99 ms |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for size in 100 1024; do
  count=$(( size == 100 ? 1000000 : 300000 ))
  for acks in 1 all; do
    s=$("$OUT/loadgen" produce 127.0.0.1:$SPORT "b-$size-$acks" $count $size $acks)
    c=$("$OUT/loadgen" produce $CLUSTER "b-$size-$acks" $count $size $acks)
    ratio=$(awk -v a="$(field "$c" mb_per_s)" -v b="$(field "$s" mb_per_s)" 'BEGIN{printf "%.2f", a/b}')
    echo "| produce ${size} B, acks=$acks, 3 partitions | $(field "$s" msgs_per_s) | $(field "$s" mb_per_s) | $(field "$c" msgs_per_s) | $(field "$c" mb_per_s) | $ratio | $(field "$c" p50_ms) | $(field "$c" p99_ms) |"
  done
done
echo
echo "| one 1 KiB message at a time (500) | standalone p50 / p99 ms | cluster p50 / p99 ms |"
echo "|---|---:|---:|"
for acks in 1 all; do
  s=$($PY test/bench/sequential-latency.py 127.0.0.1:$SPORT "lat-$acks" $acks 500)
  c=$($PY test/bench/sequential-latency.py $CLUSTER "lat-$acks" $acks 500)
  echo "| acks=$acks | $(field "$s" p50_ms) / $(field "$s" p99_ms) | $(field "$c" p50_ms) / $(field "$c" p99_ms) |"
done
echo
echo "Failover (kill -9 of a partition leader under steady librdkafka acks=all produce; longest gap in acknowledgements):"
npx vitest run test/cluster/replication.test.ts -t "killed leader" 2>&1 | grep -E "^failover \(" | sed 's/^/- /'
