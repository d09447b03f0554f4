#!/usr/bin/env bash
# Fetch-path benchmark: consume throughput and broker CPU per message, several brokers side by
# side in one run, rounds alternating between them so the shared machine's load hits all alike.
# Each broker gets the same topics (100 B and 1 KiB records, one partition) from test/bench/loadgen.c,
# then every round consumes each topic from the beginning once per broker.
#
#   bash test/bench/run-fetch-bench.sh                 # this tree's broker only
#   FETCH_BENCH_BROKERS="base=/path/to/other/tree new=." bash test/bench/run-fetch-bench.sh
#   FETCH_BENCH_BROKERS="sync=.:FJORD_HOT_TAIL_BYTES=1e15 async=.:FJORD_HOT_TAIL_BYTES=0" ...
#
# A broker is NAME=TREE[:ENV=VALUE...] (TREE holds a built apps/broker/dist). Env: FETCH_BENCH_ROUNDS
# (3), FETCH_BENCH_COUNT_100 (2000000), FETCH_BENCH_COUNT_1K (500000).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=.tmp/bench
mkdir -p "$OUT"
gcc -O2 -o "$OUT/loadgen" test/bench/loadgen.c -lrdkafka -lpthread
LG=$ROOT/$OUT/loadgen
ROUNDS=${FETCH_BENCH_ROUNDS:-3}
N100=${FETCH_BENCH_COUNT_100:-2000000}
N1K=${FETCH_BENCH_COUNT_1K:-500000}
read -r -a SPECS <<<"${FETCH_BENCH_BROKERS:-this=.}"
PORT=${FETCH_BENCH_PORT:-19961}
declare -A PID DIR
cleanup() {
  for n in "${!PID[@]}"; do kill "${PID[$n]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in "${!DIR[@]}"; do rm -rf "${DIR[$n]}"; done
}
trap cleanup EXIT
NAMES=()
declare -A ADDR
for spec in "${SPECS[@]}"; do
  name=${spec%%=*}
  rest=${spec#*=}
  IFS=: read -r -a parts <<<"$rest"
  tree=${parts[0]}
  envs=("${parts[@]:1}")
  DIR[$name]=$(mktemp -d /tmp/fjord-fetch-bench-XXXX)
  (cd "$tree" && exec env FJORD_LOG_LEVEL=warn "${envs[@]}" node apps/broker/dist/main.js --listen 127.0.0.1:$PORT \
    --data-dir "${DIR[$name]}" --override num.partitions=1) >"$OUT/broker-$name.log" 2>&1 &
  PID[$name]=$!
  ADDR[$name]=127.0.0.1:$PORT
  for _ in $(seq 1 200); do (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
  "$LG" produce "${ADDR[$name]}" fetch-100 "$N100" 100 1 >/dev/null
  "$LG" produce "${ADDR[$name]}" fetch-1k "$N1K" 1024 1 >/dev/null
  NAMES+=("$name")
  PORT=$((PORT + 1))
done
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
RES=$OUT/fetch-bench.tsv
: >"$RES"
for r in $(seq 1 "$ROUNDS"); do
  # Alternate the order each round so no broker always goes first.
  order=("${NAMES[@]}")
  if (( r % 2 == 0 )); then mapfile -t order < <(printf '%s\n' "${NAMES[@]}" | tac); fi
  for t in "fetch-100:$N100" "fetch-1k:$N1K"; do
    for name in "${order[@]}"; do
      c0=$(ticks "${PID[$name]}")
      j=$("$LG" consume "${ADDR[$name]}" "${t%%:*}" "${t##*:}")
      c1=$(ticks "${PID[$name]}")
      msgs=$(echo "$j" | sed -E 's/.*"msgs_per_s":([0-9.]+).*/\1/')
      mb=$(echo "$j" | sed -E 's/.*"mb_per_s":([0-9.]+).*/\1/')
      us=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v n="${t##*:}" 'BEGIN{printf "%.3f", c / hz * 1e6 / n}')
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${t%%:*}" "$r" "$msgs" "$mb" "$us" >>"$RES"
      echo "round $r ${t%%:*} $name: $msgs msgs/s, $mb MB/s, $us µs broker CPU/msg" >&2
    done
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "| broker | workload | msgs/s (median of $ROUNDS) | MB/s | broker CPU µs/msg |"
echo "|---|---|---:|---:|---:|"
for t in fetch-100 fetch-1k; do
  for name in "${NAMES[@]}"; do
    sel() { awk -F'\t' -v n="$name" -v t="$t" -v c="$1" '$1==n && $2==t {print $c}' "$RES"; }
    echo "| $name | consume ${t#fetch-} | $(sel 4 | median) | $(sel 5 | median) | $(sel 6 | median) |"
  done
done
