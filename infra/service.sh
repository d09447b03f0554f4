#!/usr/bin/env bash
# The whole service on this machine: PostgreSQL and Redis ensured, migrations applied, then the API,
# a worker and three zone agents (az-1..3). Brokers the agents start keep running when this stops;
# run it again and they are found again. Ctrl-C stops API, worker and agents.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/setup.sh
bash infra/ensure-postgres.sh
bash infra/ensure-redis.sh
bash infra/ensure-monitoring.sh
bash infra/ensure-s3.sh
npm run --silent db:migrate

state=.service
mkdir -p "$state/logs"
# Secrets are made once and kept, so tokens and instances survive a restart of the service.
if [ ! -f "$state/secrets.env" ]; then
  umask 077
  {
    echo "FJORD_JWT_KEYS=k1:$(head -c 32 /dev/urandom | base64 | tr -d '=+/\n')"
    echo "FJORD_ADMIN_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '=+/\n')"
    echo "FJORD_AGENT_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '=+/\n')"
  } >"$state/secrets.env"
fi
# Secrets added by later versions of the service are appended once.
if ! grep -q '^FJORD_INTERNAL_TOKEN=' "$state/secrets.env"; then
  (umask 077; echo "FJORD_INTERNAL_TOKEN=$(head -c 32 /dev/urandom | base64 | tr -d '=+/\n')" >>"$state/secrets.env")
fi
set -a
. "$state/secrets.env"
set +a
export DATABASE_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/fjord}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
API_PORT=${FJORD_API_PORT:-8080}
# Monitoring: Prometheus scrapes brokers, agents, API and worker; Alertmanager sends alarms to the API.
export FJORD_PROMETHEUS_PORT=${FJORD_PROMETHEUS_PORT:-9090}
export FJORD_ALERTMANAGER_PORT=${FJORD_ALERTMANAGER_PORT:-9093}
export FJORD_PROMETHEUS_URL=http://127.0.0.1:$FJORD_PROMETHEUS_PORT
export FJORD_MONITORING_DIR="$PWD/$state/monitoring"
export FJORD_PROMETHEUS_RULES_DIR="$FJORD_MONITORING_DIR/rules"
export FJORD_WORKER_METRICS_LISTEN=${FJORD_WORKER_METRICS_LISTEN:-127.0.0.1:9101}
export FJORD_SCRAPE_INTERVAL_SECONDS=${FJORD_SCRAPE_INTERVAL_SECONDS:-15}
export FJORD_API_URL=http://127.0.0.1:$API_PORT
# Everything here listens on loopback (s3rver, PostgreSQL, the brokers), which a production service
# refuses connectors (docs/adr/0022, "Where connectors may connect"): this machine is its own
# on-premises network. Set it empty to see production's refusals.
export FJORD_CONNECTOR_ALLOWED_NETWORKS=${FJORD_CONNECTOR_ALLOWED_NETWORKS-127.0.0.0/8}

pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

zones=()
# Zone agents listen on AGENT_BASE_PORT+1..3; their brokers take ports from FJORD_BROKER_PORTS,
# a range of its own (each zone a third of it), clear of the OS's ephemeral ports (32768+).
AGENT_BASE_PORT=${FJORD_AGENT_BASE_PORT:-7100}
BROKER_PORTS=${FJORD_BROKER_PORTS:-20000-29999}
ports_from=${BROKER_PORTS%-*}
ports_to=${BROKER_PORTS#*-}
ports_each=$(((ports_to - ports_from + 1) / 3))
for i in 1 2 3; do
  port=$((AGENT_BASE_PORT + i))
  zone_from=$((ports_from + (i - 1) * ports_each))
  FJORD_ZONE=az-$i FJORD_AGENT_PORT=$port FJORD_BROKER_PORTS="$zone_from-$((zone_from + ports_each - 1))" FJORD_AGENT_DATA_DIR="$PWD/.service/zones/az-$i" \
    node apps/zone-agent/dist/main.js >>"$state/logs/agent-az-$i.log" 2>&1 &
  pids+=($!)
  zones+=("az-$i=http://127.0.0.1:$port")
done
FJORD_API_PORT=$API_PORT node apps/api/dist/main.js >>"$state/logs/api.log" 2>&1 &
pids+=($!)
node apps/worker/dist/main.js >>"$state/logs/worker.log" 2>&1 &
pids+=($!)
# Connector workers (ADR 0022): tasks are leased in PostgreSQL, so any number may run; two show
# tasks moving when one stops.
for i in 1 2; do
  FJORD_CONNECT_WORKER_ID=connect-$i FJORD_CONNECT_METRICS_PORT=$((9110 + i)) \
    node apps/connect/dist/main.js >>"$state/logs/connect-$i.log" 2>&1 &
  pids+=($!)
done
node packages/monitoring/dist/cli/runStack.js >>"$state/logs/monitoring.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 80); do
  curl -sf "http://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.25
done
FJORD_BOOTSTRAP_FILE="$state/bootstrap.json" node apps/api/dist/cli/bootstrap.js "http://127.0.0.1:$API_PORT" "${zones[@]}"
echo "console: http://127.0.0.1:$API_PORT/console/ (sign in with the root key above)"
echo "prometheus: $FJORD_PROMETHEUS_URL   alertmanager: http://127.0.0.1:$FJORD_ALERTMANAGER_PORT"
echo "s3 (connectors' object storage, s3rver): http://127.0.0.1:${FJORD_S3_PORT:-4568}  bucket fjord-sink, key S3RVER / S3RVER"
echo "logs: $state/logs/   (Ctrl-C stops the service; brokers keep running)"
wait
