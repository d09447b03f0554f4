#!/usr/bin/env bash
# Side-by-side broker benchmark: throughput and broker CPU per message of several brokers in one
# run, rounds alternating between them so the shared machine's load hits all alike; with KAFKA_HOME,
# Apache Kafka is one of them (issue 17 item 5). Client: test/bench/loadgen.c (librdkafka) for all.
# Each broker starts fresh (empty data dir under /tmp, one partition per topic, Kafka's default flush
# policy: no fsync per message), gets the consume topics (100 B and 1 KiB records) and the rounds'
# produce topics, and is warmed up by consuming the former once; then every round runs each workload
# once per broker, and the table gives the medians of the rounds.
#
#   bash test/bench/run-fetch-bench.sh                 # this tree's broker, consume only
#   FETCH_BENCH_BROKERS="base=/path/to/other/tree new=." bash test/bench/run-fetch-bench.sh
#   FETCH_BENCH_BROKERS="sync=.:FJORD_HOT_TAIL_BYTES=1e15 async=.:FJORD_HOT_TAIL_BYTES=0" ...
#   KAFKA_HOME=/path/to/kafka_2.11-2.4.0 FETCH_BENCH_WORKLOADS=all bash test/bench/run-fetch-bench.sh
#   KAFKA_HOME=... FETCH_BENCH_BROKERS=fjord=. FETCH_BENCH_CLUSTER=3 FETCH_BENCH_WORKLOADS=all ...
#
# A broker is NAME=TREE[:ENV=VALUE...] (TREE holds a built apps/broker/dist). KAFKA_HOME (a Kafka
# distribution: bin/, libs/, run with the `java` on PATH) adds the broker "kafka" with its own ZooKeeper;
# the Kafka rows and the ratio table are printed only then. Kafka's heap is KAFKA_HEAP_OPTS, by default
# 2.4.0's stock "-Xmx1G -Xms1G".
# Env: FETCH_BENCH_ROUNDS (3), FETCH_BENCH_COUNT_100 (2000000), FETCH_BENCH_COUNT_1K (500000),
# FETCH_BENCH_WORKLOADS ("consume-100 consume-1k"; "all" adds produce-100-acks1, produce-1k-acksall and
# latency-1k-acksall), FETCH_BENCH_RATE (latency workload: 1 KiB acks=all at this many msgs/s, 10000),
# FETCH_BENCH_COUNT_LAT (100000), FETCH_BENCH_CLUSTER (1; 3 = each broker is a cluster of 3 on this
# machine, RF=3, min.insync.replicas=2; Fjord's needs PostgreSQL), FETCH_BENCH_PORT (19961).
# Broker CPU = utime + stime from /proc/<pid>/stat of the broker processes over the workload (for Kafka
# the JVMs, not ZooKeeper; for a Fjord cluster the broker processes, not the parent that started them).
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
NLAT=${FETCH_BENCH_COUNT_LAT:-100000}
RATE=${FETCH_BENCH_RATE:-10000}
NODES=${FETCH_BENCH_CLUSTER:-1}
WORKLOADS=${FETCH_BENCH_WORKLOADS:-consume-100 consume-1k}
[[ $WORKLOADS == all ]] && WORKLOADS="produce-100-acks1 produce-1k-acksall consume-100 consume-1k latency-1k-acksall"
read -r -a WORKLOADS <<<"$WORKLOADS"
read -r -a SPECS <<<"${FETCH_BENCH_BROKERS:-this=.}"
[[ -n ${KAFKA_HOME:-} ]] && SPECS+=("kafka=KAFKA")
[[ $NODES == 1 || $NODES == 3 ]] || { echo "FETCH_BENCH_CLUSTER must be 1 or 3" >&2; exit 2; }
PORT=${FETCH_BENCH_PORT:-19961}
declare -A PID ADDR DIR
STARTED=() # every broker process this script started, stopped at exit
ZOOKEEPERS=() # stopped after the brokers: a Kafka broker's controlled shutdown needs its ZooKeeper
DBS=()
cleanup() {
  for p in "${STARTED[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${STARTED[@]}"; do wait "$p" 2>/dev/null || true; done
  for p in "${ZOOKEEPERS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in "${!DIR[@]}"; do rm -rf "${DIR[$n]}"; done
  for db in "${DBS[@]}"; do psql -h 127.0.0.1 -U postgres -qc "drop database if exists $db with (force)" || true; done
}
trap cleanup EXIT
trap 'echo "run-fetch-bench.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
wait_port() { # host port
  for _ in $(seq 1 600); do (echo >"/dev/tcp/$1/$2") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on $1:$2" >&2
  return 1
}

start_fjord() { # name tree envs...
  local name=$1 tree=$2
  shift 2
  if ((NODES == 1)); then
    (cd "$tree" && exec env FJORD_LOG_LEVEL=warn "$@" node apps/broker/dist/main.js --listen 127.0.0.1:$PORT \
      --data-dir "${DIR[$name]}" --override num.partitions=1) >"$OUT/broker-$name.log" 2>&1 &
    PID[$name]=$!
    STARTED+=($!)
    ADDR[$name]=127.0.0.1:$PORT
    wait_port 127.0.0.1 $PORT
    PORT=$((PORT + 1))
    return
  fi
  local db=fjord_fetch_bench_$$_${#DBS[@]}
  psql -h 127.0.0.1 -U postgres -qc "create database $db"
  DBS+=("$db")
  (cd "$tree" && DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$db node packages/db/dist/cli/migrate.js >/dev/null &&
    exec env FJORD_LOG_LEVEL=warn DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$db "$@" node apps/broker/dist/cluster.js \
      --brokers 3 --zones 3 --data-dir "${DIR[$name]}" --base-port $PORT --override num.partitions=1 \
      --override default.replication.factor=3 --override min.insync.replicas=2) >"$OUT/broker-$name.log" 2>&1 &
  local parent=$!
  STARTED+=($parent)
  for _ in $(seq 1 600); do grep -q "bootstrap servers" "$OUT/broker-$name.log" && break; sleep 0.2; done
  grep -q "bootstrap servers" "$OUT/broker-$name.log" || { echo "cluster $name did not start" >&2; exit 1; }
  PID[$name]=$(pgrep -P $parent | tr '\n' ' ')
  ADDR[$name]=127.0.0.1:$((PORT + 1)),127.0.0.2:$((PORT + 2)),127.0.0.3:$((PORT + 3))
  PORT=$((PORT + 10))
}

start_kafka() { # name: ZooKeeper, then NODES Kafka brokers, configured like the Fjord brokers
  local name=$1 dir=${DIR[$1]} zk=$PORT i port addrs=() pids=()
  printf '%s\n' "dataDir=$dir/zookeeper" "clientPort=$zk" "clientPortAddress=127.0.0.1" "maxClientCnxns=0" \
    "admin.enableServer=false" >"$dir/zookeeper.properties"
  LOG_DIR=$dir/zookeeper-logs "$KAFKA_HOME/bin/zookeeper-server-start.sh" "$dir/zookeeper.properties" \
    >"$OUT/zookeeper-$name.log" 2>&1 &
  ZOOKEEPERS+=($!)
  wait_port 127.0.0.1 "$zk"
  for i in $(seq 1 "$NODES"); do
    port=$((zk + i))
    # Kafka's defaults otherwise (log.flush.interval.messages unset: the page cache, as Fjord).
    printf '%s\n' "broker.id=$i" "listeners=PLAINTEXT://127.0.0.1:$port" "log.dirs=$dir/kafka-$i" \
      "zookeeper.connect=127.0.0.1:$zk" "num.partitions=1" "default.replication.factor=$NODES" \
      "min.insync.replicas=$((NODES == 1 ? 1 : 2))" "offsets.topic.replication.factor=$NODES" \
      "transaction.state.log.replication.factor=$NODES" "transaction.state.log.min.isr=$((NODES == 1 ? 1 : 2))" \
      "group.initial.rebalance.delay.ms=0" >"$dir/server-$i.properties"
    # kafka-server-start.sh execs the JVM, so $! is the broker's pid.
    KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G} LOG_DIR=$dir/kafka-logs-$i "$KAFKA_HOME/bin/kafka-server-start.sh" "$dir/server-$i.properties" \
      >"$OUT/kafka-$name-$i.log" 2>&1 &
    STARTED+=($!)
    pids+=($!)
    addrs+=(127.0.0.1:$port)
  done
  # Ready when registered in ZooKeeper (its port opens earlier): a topic auto-created before all
  # NODES brokers are registered fails with INVALID_REPLICATION_FACTOR.
  for i in $(seq 1 "$NODES"); do
    for _ in $(seq 1 1200); do grep -q "started (kafka.server.KafkaServer)" "$OUT/kafka-$name-$i.log" && break; sleep 0.1; done
    grep -q "started (kafka.server.KafkaServer)" "$OUT/kafka-$name-$i.log" || { echo "Kafka broker $i did not start" >&2; exit 1; }
  done
  PID[$name]=${pids[*]}
  ADDR[$name]=$(IFS=,; echo "${addrs[*]}")
  PORT=$((PORT + 10))
}

NAMES=()
for spec in "${SPECS[@]}"; do
  name=${spec%%=*}
  rest=${spec#*=}
  IFS=: read -r -a parts <<<"$rest"
  DIR[$name]=$(mktemp -d /tmp/fjord-fetch-bench-XXXX)
  if [[ ${parts[0]} == KAFKA ]]; then start_kafka "$name"; else start_fjord "$name" "${parts[0]}" "${parts[@]:1}"; fi
  "$LG" produce "${ADDR[$name]}" fetch-100 "$N100" 100 1 >/dev/null
  "$LG" produce "${ADDR[$name]}" fetch-1k "$N1K" 1024 1 >/dev/null
  # The rounds' produce topics exist before any is measured: Kafka's auto-creation (through ZooKeeper
  # and its controller) takes ~1 s, which would otherwise count as the first messages' latency.
  for r in $(seq 1 "$ROUNDS"); do
    for t in p100 p1k lat; do "$LG" produce "${ADDR[$name]}" "$t-r$r" 1 100 1 >/dev/null; done
  done
  # Warm-up (JIT, page cache): one consume of each topic, not measured.
  "$LG" consume "${ADDR[$name]}" fetch-100 "$N100" >/dev/null
  "$LG" consume "${ADDR[$name]}" fetch-1k "$N1K" >/dev/null
  NAMES+=("$name")
done
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
ticks() { local t=0 p; for p in $1; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
field() { echo "$1" | sed -E "s/.*\"$2\":([0-9.-]+).*/\1/"; }
HZ=$(getconf CLK_TCK)
RES=$OUT/fetch-bench.tsv
: >"$RES"
run() { # name workload round -> prints "json<TAB>messages"
  local a=${ADDR[$1]} r=$3
  case $2 in
  produce-100-acks1) echo "$("$LG" produce "$a" "p100-r$r" "$N100" 100 1)	$N100" ;;
  produce-1k-acksall) echo "$("$LG" produce "$a" "p1k-r$r" "$N1K" 1024 all)	$N1K" ;;
  consume-100) echo "$("$LG" consume "$a" fetch-100 "$N100")	$N100" ;;
  consume-1k) echo "$("$LG" consume "$a" fetch-1k "$N1K")	$N1K" ;;
  latency-1k-acksall) echo "$(LOADGEN_RATE=$RATE "$LG" produce "$a" "lat-r$r" "$NLAT" 1024 all)	$NLAT" ;;
  *) echo "unknown workload $2" >&2; exit 2 ;;
  esac
}
for r in $(seq 1 "$ROUNDS"); do
  # Alternate the order each round so no broker always goes first.
  order=("${NAMES[@]}")
  if (( r % 2 == 0 )); then mapfile -t order < <(printf '%s\n' "${NAMES[@]}" | tac); fi
  for w in "${WORKLOADS[@]}"; do
    for name in "${order[@]}"; do
      c0=$(ticks "${PID[$name]}")
      out=$(run "$name" "$w" "$r")
      c1=$(ticks "${PID[$name]}")
      j=${out%%	*}
      n=${out##*	}
      msgs=$(field "$j" msgs_per_s)
      mb=$(field "$j" mb_per_s)
      p99=$(echo "$j" | grep -q p99_ms && field "$j" p99_ms || echo -)
      us=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v n="$n" 'BEGIN{printf "%.3f", c / hz * 1e6 / n}')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$w" "$r" "$msgs" "$mb" "$us" "$p99" >>"$RES"
      echo "round $r $w $name: $msgs msgs/s, $mb MB/s, $us µs broker CPU/msg, p99 $p99 ms ($(cut -d' ' -f1 /proc/loadavg))" >&2
    done
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
med() { awk -F'\t' -v n="$1" -v w="$2" -v c="$3" '$1==n && $2==w {print $c}' "$RES" | median; }
echo "| broker | workload ($NODES broker(s) each) | msgs/s (median of $ROUNDS) | MB/s | broker CPU µs/msg | p99 ms |"
echo "|---|---|---:|---:|---:|---:|"
for w in "${WORKLOADS[@]}"; do
  for name in "${NAMES[@]}"; do
    echo "| $name | $w | $(med "$name" "$w" 4) | $(med "$name" "$w" 5) | $(med "$name" "$w" 6) | $(med "$name" "$w" 7) |"
  done
done
[[ -n ${KAFKA_HOME:-} ]] || exit 0
echo
echo "| broker / kafka | workload | throughput | broker CPU per message | p99 latency |"
echo "|---|---|---:|---:|---:|"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (a == "-" || b == "-" || b == 0) print "—"; else printf "%.2f×", a / b}'; }
for w in "${WORKLOADS[@]}"; do
  for name in "${NAMES[@]}"; do
    [[ $name == kafka ]] && continue
    echo "| $name / kafka | $w | $(ratio "$(med "$name" "$w" 4)" "$(med kafka "$w" 4)") |" \
      "$(ratio "$(med "$name" "$w" 6)" "$(med kafka "$w" 6)") | $(ratio "$(med "$name" "$w" 7)" "$(med kafka "$w" 7)") |"
  done
done
