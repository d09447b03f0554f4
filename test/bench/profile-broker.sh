#!/usr/bin/env bash
# Where a broker's event loop spends its time (issue 17 item 2, ADR 0023): runs the standalone
# broker under `node --cpu-prof` for one workload of test/bench/loadgen.c, then prints the busy
# time split by kind of work (test/bench/cpu-profile-split.ts).
#
#   bash test/bench/profile-broker.sh produce-100-1|produce-100-all|produce-1k-1|produce-1k-all|consume-100|consume-1k
#   PROFILE_BROKER_ARGS="--override num.shard.threads=2" adds broker settings.
# Consume workloads produce the topic first (same broker) and count only samples after the last
# produce request.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=.tmp/bench
mkdir -p "$OUT"
gcc -O2 -o "$OUT/loadgen" test/bench/loadgen.c -lrdkafka -lpthread
W=${1:?workload}
PORT=${PROFILE_BROKER_PORT:-19871}
read -r -a EXTRA <<<"${PROFILE_BROKER_ARGS:-}"
DATA=$(mktemp -d /tmp/fjord-profile-XXXX)
PROFDIR=$OUT/profile-$W
rm -rf "$PROFDIR"
mkdir -p "$PROFDIR"
FJORD_LOG_LEVEL=warn node --cpu-prof --cpu-prof-dir="$PROFDIR" apps/broker/dist/main.js --listen 127.0.0.1:$PORT \
  --data-dir "$DATA" --override num.partitions=1 "${EXTRA[@]}" >"$OUT/broker-profile.log" 2>&1 &
B=$!
trap 'kill $B 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 300); do (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
LG=$OUT/loadgen
after=
case $W in
  produce-100-1) j=$($LG produce 127.0.0.1:$PORT t 1000000 100 1) ;;
  produce-100-all) j=$($LG produce 127.0.0.1:$PORT t 1000000 100 all) ;;
  produce-1k-1) j=$($LG produce 127.0.0.1:$PORT t 300000 1024 1) ;;
  produce-1k-all) j=$($LG produce 127.0.0.1:$PORT t 300000 1024 all) ;;
  consume-100) $LG produce 127.0.0.1:$PORT t 1000000 100 1 >/dev/null; j=$($LG consume 127.0.0.1:$PORT t 1000000); after=1 ;;
  consume-1k) $LG produce 127.0.0.1:$PORT t 300000 1024 1 >/dev/null; j=$($LG consume 127.0.0.1:$PORT t 300000); after=1 ;;
  *) echo "unknown workload $W" >&2; exit 2 ;;
esac
echo "$W, load average $(cut -d' ' -f1-3 /proc/loadavg): $j"
kill -INT $B
wait $B || true
# The broker's main thread writes the first profile; shard threads (if any) write one each.
for f in "$PROFDIR"/*.cpuprofile; do
  echo "## $(basename "$f")"
  npx tsx test/bench/cpu-profile-split.ts "$f" ${after:+--after-produce}
done
