#!/usr/bin/env bash
# Produce throughput over SASL_SSL against PLAINTEXT on the same broker: builds the librdkafka load
# generator, makes a CA and a broker certificate with openssl, starts apps/broker with a PLAINTEXT
# and a SASL_SSL listener (SCRAM-SHA-512 user from --add-scram), and runs the same produce
# workloads against each. Prints a Markdown table. Usage: bash test/bench/run-security-bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=.tmp/bench
mkdir -p "$OUT"
gcc -O2 -o "$OUT/loadgen" test/bench/loadgen.c -lrdkafka -lpthread
PKI=$(mktemp -d /tmp/fjord-bench-pki-XXXX)
DATA=$(mktemp -d /tmp/fjord-bench-XXXX)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.pem" -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$PKI/broker.key" -out "$PKI/broker.csr" -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$PKI/ext"
openssl x509 -req -in "$PKI/broker.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial -out "$PKI/broker.pem" -days 2 -extfile "$PKI/ext" 2>/dev/null
cat "$PKI/broker.key" "$PKI/broker.pem" >"$PKI/keystore.pem"
PLAIN=${PLAIN_PORT:-19990}
SECURE=${SECURE_PORT:-19991}
node apps/broker/dist/main.js --data-dir "$DATA" --override num.partitions=1 \
  --override "listeners=PLAINTEXT://127.0.0.1:$PLAIN,SASL_SSL://127.0.0.1:$SECURE" \
  --override ssl.keystore.type=PEM --override "ssl.keystore.location=$PKI/keystore.pem" \
  --override listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512 \
  --add-scram 'SCRAM-SHA-512=[name=bench,password=bench-secret]' >"$OUT/security-broker.log" 2>&1 &
BROKER=$!
trap 'kill $BROKER 2>/dev/null; rm -rf "$DATA" "$PKI"' EXIT
for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/$SECURE) 2>/dev/null && break; sleep 0.1; done
SASL_SSL_CONF="security.protocol=SASL_SSL;ssl.ca.location=$PKI/ca.pem;sasl.mechanisms=SCRAM-SHA-512;sasl.username=bench;sasl.password=bench-secret"

field() { echo "$1" | sed -E "s/.*\"$2\":([0-9.]+).*/\1/"; }
echo "| workload | PLAINTEXT MB/s | SASL_SSL MB/s | SASL_SSL / PLAINTEXT | PLAINTEXT p50 ms | SASL_SSL p50 ms |"
echo "|---|---:|---:|---:|---:|---:|"
for size in 100 1024; do
  count=$(( size == 100 ? 1000000 : 300000 ))
  for acks in 1 all; do
    p=$("$OUT/loadgen" produce 127.0.0.1:$PLAIN "plain-$size-$acks" $count $size $acks)
    s=$(LOADGEN_CONF="$SASL_SSL_CONF" "$OUT/loadgen" produce 127.0.0.1:$SECURE "secure-$size-$acks" $count $size $acks)
    pm=$(field "$p" mb_per_s); sm=$(field "$s" mb_per_s)
    echo "| produce ${size} B, acks=$acks | $pm | $sm | $(awk -v a="$sm" -v b="$pm" 'BEGIN{printf "%.2f", a/b}') | $(field "$p" p50_ms) | $(field "$s" p50_ms) |"
  done
done
