#!/usr/bin/env node
import { createPrismaClient } from '@fjord/db';
import { parseAllowedNetworks } from '@fjord/egress';
import { ZoneAgentClient } from '@fjord/fleet';
import { PrometheusClient } from '@fjord/monitoring';
import { AutoscaleObservation, BrokerReplicaFootprint } from '@fjord/provisioning';
import { pino } from 'pino';
import { Autoscaler } from './autoscaling/Autoscaler.js';
import { CertificateRotator } from './certificates/CertificateRotator.js';
import { HealthReconciler } from './health/HealthReconciler.js';
import { AlarmRulesSync } from './monitoring/AlarmRulesSync.js';
import { DEFAULT_DISPATCHER_OPTIONS, NotificationDispatcher } from './monitoring/NotificationDispatcher.js';
import { repeat } from './monitoring/repeat.js';
import { WorkerMetrics } from './monitoring/WorkerMetrics.js';
import { OperationRunner } from './OperationRunner.js';
import { OperationWorker } from './OperationWorker.js';

const env = process.env;
const log = pino({ name: 'fjord-worker', level: env.FJORD_LOG_LEVEL ?? 'info' });
const required = (name: string) => {
  const v = env[name];
  if (!v) {
    log.fatal(`${name} must be set`);
    process.exit(2);
  }
  return v;
};

const prisma = createPrismaClient(env.DATABASE_URL);
// Read per call, not cached: an operator may move a host's agent (PUT /v1/zones/{zone}/hosts/{host}).
const fleet = new ZoneAgentClient(async ({ zone, host }) => {
  const url = (await prisma.host.findUnique({ where: { zone_id: { zone, id: host } } }))?.agentUrl;
  if (!url) throw new Error(`host ${host} of zone ${zone} has no agent`);
  return url;
}, required('FJORD_AGENT_SECRET'));
// Scrapes start once the metrics server listens, after `worker` exists.
const metrics: WorkerMetrics = new WorkerMetrics((): Promise<Record<string, number>> => worker.jobCounts());
const adminSecret = required('FJORD_ADMIN_SECRET');
// Instances run clustered, their metadata log in PostgreSQL (this database unless told otherwise);
// FJORD_STANDALONE_BROKERS=1 runs each broker alone (brokers without clustered mode).
const clusterSettings =
  env.FJORD_STANDALONE_BROKERS === '1'
    ? {}
    : {
        metadataDatabaseUrl:
          env.FJORD_METADATA_DATABASE_URL ?? env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/fjord',
      };
const readyTimeoutMs = Number(env.FJORD_READY_TIMEOUT_MS ?? 20_000);
// What every broker spec is built from, whoever builds it (operations, the health reconciler).
const brokerSettings = {
  adminSecret,
  ...clusterSettings,
  ...(env.FJORD_BROKER_CERT_LIFETIME_MS
    ? { brokerCertificateLifetimeMs: Number(env.FJORD_BROKER_CERT_LIFETIME_MS) }
    : {}),
};
const runner = new OperationRunner(
  prisma,
  fleet,
  {
    readyTimeoutMs,
    rollingSettleMs: Number(env.FJORD_ROLLING_SETTLE_MS ?? 10_000),
    reassignmentThrottleBytes: Number(env.FJORD_REASSIGNMENT_THROTTLE_BYTES ?? 50_000_000),
    ...brokerSettings,
  },
  log,
  metrics,
);
const worker = new OperationWorker(prisma, runner, log, {
  redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: env.FJORD_QUEUE_PREFIX ?? 'fjord',
  concurrency: Number(env.FJORD_WORKER_CONCURRENCY ?? 8),
  reconcileEveryMs: Number(env.FJORD_RECONCILE_MS ?? 5000),
  lockMs: Number(env.FJORD_JOB_LOCK_MS ?? 10_000),
});
const stops: (() => void)[] = [];
// Desired against observed state: health per instance, brokers gone from their hosts replaced.
const health = new HealthReconciler(prisma, fleet, brokerSettings, log);
stops.push(repeat('instance-health', Number(env.FJORD_HEALTH_MS ?? 5000), () => health.reconcile(), log));
// Broker TLS certificates renewed before they expire, without restarting brokers.
const rotator = new CertificateRotator(prisma, fleet, { ...brokerSettings, readyTimeoutMs }, log);
stops.push(
  repeat('certificate-rotation', Number(env.FJORD_CERT_CHECK_MS ?? 600_000), () => rotator.rotate(), log),
);
// Alarm notifications go out whether or not this deployment runs Prometheus (events may be queued).
const dispatcher = new NotificationDispatcher(
  prisma,
  adminSecret,
  log,
  {
    ...DEFAULT_DISPATCHER_OPTIONS,
    allowedNetworks: parseAllowedNetworks(env.FJORD_WEBHOOK_ALLOWED_NETWORKS),
  },
  (outcome) => metrics.notifications.inc({ outcome }),
);
stops.push(
  repeat(
    'alarm-notifications',
    Number(env.FJORD_NOTIFY_POLL_MS ?? 1000),
    () => dispatcher.dispatchDue(),
    log,
  ),
);
const scrapeSeconds = Number(env.FJORD_SCRAPE_INTERVAL_SECONDS ?? 15);
if (env.FJORD_PROMETHEUS_URL && env.FJORD_PROMETHEUS_RULES_DIR) {
  const rules = new AlarmRulesSync(
    prisma,
    new PrometheusClient(env.FJORD_PROMETHEUS_URL),
    env.FJORD_PROMETHEUS_RULES_DIR,
    4 * scrapeSeconds,
    log,
    (outcome) => metrics.ruleReloads.inc({ outcome }),
  );
  stops.push(repeat('alarm-rules', Number(env.FJORD_ALARM_SYNC_MS ?? 5000), () => rules.sync(), log));
}
// Autoscaling reads utilisation from Prometheus: without it there is nothing to decide from.
if (env.FJORD_PROMETHEUS_URL) {
  const autoscaler = new Autoscaler(
    prisma,
    new AutoscaleObservation(prisma, new PrometheusClient(env.FJORD_PROMETHEUS_URL), scrapeSeconds),
    { prisma, queue: worker, footprint: new BrokerReplicaFootprint(adminSecret) },
    log,
  );
  stops.push(repeat('autoscaler', Number(env.FJORD_AUTOSCALE_MS ?? 30_000), () => autoscaler.runOnce(), log));
}
if (env.FJORD_WORKER_METRICS_LISTEN) {
  const [host, port] = env.FJORD_WORKER_METRICS_LISTEN.split(':');
  const { server } = await metrics.listen(host || '127.0.0.1', Number(port));
  stops.push(() => server.close());
}
log.info('fjord worker started');
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => {
    log.info({ signal }, 'stopping');
    for (const stop of stops) stop();
    // Brokers keep running; unfinished jobs are resumed by the next worker.
    void worker
      .close()
      .then(() => prisma.$disconnect())
      .then(() => process.exit(0));
  });
