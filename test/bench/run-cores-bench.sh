#!/usr/bin/env bash
# Cores benchmark (issue 17 item 2, ADR 0023): the standalone broker pinned with `taskset` to one
# core and to two, with shard threads off (num.shard.threads=0) and on, rounds alternating so the
# shared machine's load hits every configuration alike. Each round starts a fresh broker per
# configuration, produces 100 B (acks=1) and 1 KiB (acks=all) messages with test/bench/loadgen.c
# and consumes the 1 KiB topic back. The load generator is not pinned.
# Prints per-round lines on stderr and a Markdown table of medians (msgs/s, broker CPU µs/msg).
#
#   bash test/bench/run-cores-bench.sh
#   CORES_BENCH_CONFIGS="0/0 0,1/0 0/2 0,1/2"   # CPU list / num.shard.threads, one per configuration
#   CORES_BENCH_ROUNDS=3 CORES_BENCH_COUNT_100=1000000 CORES_BENCH_COUNT_1K=300000
#   CORES_BENCH_BROKER_ARGS="--override compression.type=gzip" adds settings to every broker.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=.tmp/bench
mkdir -p "$OUT"
gcc -O2 -o "$OUT/loadgen" test/bench/loadgen.c -lrdkafka -lpthread
LG=$PWD/$OUT/loadgen
read -r -a SETS <<<"${CORES_BENCH_CONFIGS:-0/0 0,1/0 0/2 0,1/2}"
ROUNDS=${CORES_BENCH_ROUNDS:-3}
N100=${CORES_BENCH_COUNT_100:-1000000}
N1K=${CORES_BENCH_COUNT_1K:-300000}
read -r -a EXTRA <<<"${CORES_BENCH_BROKER_ARGS:-}"
PORT=${CORES_BENCH_PORT:-19941}
BROKER=
DATA=
cleanup() {
  if [ -n "$BROKER" ]; then kill "$BROKER" 2>/dev/null || true; wait "$BROKER" 2>/dev/null || true; fi
  if [ -n "$DATA" ]; then rm -rf "$DATA"; fi
}
trap cleanup EXIT
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
field() { echo "$2" | sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }
RES=$OUT/cores-bench.tsv
: >"$RES"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 "$ROUNDS"); do
  order=("${SETS[@]}")
  if (( r % 2 == 0 )); then mapfile -t order < <(printf '%s\n' "${SETS[@]}" | tac); fi
  for cfg in "${order[@]}"; do
    cpus=${cfg%/*}
    DATA=$(mktemp -d /tmp/fjord-cores-bench-XXXX)
    FJORD_LOG_LEVEL=warn taskset -c "$cpus" node apps/broker/dist/main.js --listen 127.0.0.1:$PORT \
      --data-dir "$DATA" --override num.partitions=1 --override "num.shard.threads=${cfg#*/}" "${EXTRA[@]}" \
      >"$OUT/broker-cores.log" 2>&1 &
    BROKER=$!
    for _ in $(seq 1 300); do (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
    for w in "produce-100-1:produce t100 $N100 100 1" "produce-1k-all:produce t1k $N1K 1024 all" "consume-1k:consume t1k $N1K"; do
      name=${w%%:*}
      read -r -a a <<<"${w#*:}"
      n=${a[2]}
      c0=$(ticks "$BROKER")
      j=$("$LG" "${a[0]}" 127.0.0.1:$PORT "${a[@]:1}")
      c1=$(ticks "$BROKER")
      msgs=$(field msgs_per_s "$j")
      us=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v n="$n" 'BEGIN{printf "%.3f", c / hz * 1e6 / n}')
      load=$(cut -d' ' -f1 /proc/loadavg)
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$cfg" "$name" "$r" "$msgs" "$us" "$load" >>"$RES"
      echo "round $r cpus/shards=$cfg $name: $msgs msgs/s, $us µs broker CPU/msg, load $load" >&2
    done
    kill "$BROKER"; wait "$BROKER" 2>/dev/null || true
    BROKER=
    rm -rf "$DATA"; DATA=
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "| broker CPUs / num.shard.threads | workload | msgs/s (median of $ROUNDS) | broker CPU µs/msg |"
echo "|---|---|---:|---:|"
for w in produce-100-1 produce-1k-all consume-1k; do
  for cfg in "${SETS[@]}"; do
    sel() { awk -F'\t' -v c="$cfg" -v w="$w" -v k="$1" '$1==c && $2==w {print $k}' "$RES"; }
    echo "| $cfg | $w | $(sel 4 | median) | $(sel 5 | median) |"
  done
done
