import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATION_JOB_OPTIONS, OPERATIONS_QUEUE } from '@fjord/contracts';
import { freePorts } from '@fjord/fleet';
import { MonitoringStack, PrometheusClient } from '@fjord/monitoring';
import { AutoscaleObservation, BrokerReplicaFootprint } from '@fjord/provisioning';
import { type RestClient, startTestApi, TEST_ADMIN_SECRET, type TestApi } from '@fjord/test-support/api';
import { REDIS_URL } from '@fjord/test-support/redis';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Autoscaler } from '../src/autoscaling/Autoscaler.js';

/**
 * The autoscaler against real PostgreSQL, Redis and Prometheus (which scrapes nothing here: the
 * instance has no brokers). The policy's minimum is above the instance's size, so the planner
 * wants to scale out; the zone is full, so the shared admission refuses it.
 */
let t: TestApi;
let stack: MonitoringStack;
let dir: string;
let redis: Redis;
let queue: Queue;
let owner: RestClient;
let instanceId: string;
let autoscaler: Autoscaler;

beforeAll(async () => {
  t = await startTestApi();
  const operator = await t.operator();
  expect(
    (await operator.call('PUT', '/v1/zones/az-1', { capacity: 1, agentUrl: 'http://127.0.0.1:1' })).status,
  ).toBe(200);
  owner = (await t.tenant('full-zone')).client;
  const created = await owner.call('POST', '/v1/instances', {
    name: 'cramped',
    zones: ['az-1'],
    brokerCount: 1,
  });
  expect(created.status).toBe(202);
  instanceId = created.body.instance.id;
  // No worker here: mark it created as the create flow would.
  await t.prisma.operation.update({
    where: { id: created.body.operation.id },
    data: { status: 'SUCCEEDED' },
  });
  await t.prisma.instance.update({ where: { id: instanceId }, data: { status: 'RUNNING' } });
  const put = await owner.call('PUT', `/v1/instances/${instanceId}/autoscaling-policy`, {
    minBrokers: 2,
    maxBrokers: 3,
    minBandwidthMBps: 10,
    maxBandwidthMBps: 100,
    holdSeconds: 5,
    cooldownSeconds: 600,
  });
  expect(put.status).toBe(201);

  dir = mkdtempSync(join(tmpdir(), 'fjord-autoscaler-'));
  const [prometheusPort, alertmanagerPort] = await freePorts('127.0.0.1', 2);
  stack = new MonitoringStack({
    dir,
    host: '127.0.0.1',
    prometheusPort: prometheusPort!,
    alertmanagerPort: alertmanagerPort!,
    apiUrl: t.api.url,
    internalToken: 'unused',
    agentSecret: 'unused',
    scrapeIntervalSeconds: 1,
    evaluationIntervalSeconds: 1,
    discoveryRefreshSeconds: 1,
    alertGroupWaitSeconds: 1,
    alertGroupIntervalSeconds: 1,
  });
  await stack.start();
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue(OPERATIONS_QUEUE, { connection: redis, prefix: t.queuePrefix });
  autoscaler = new Autoscaler(
    t.prisma,
    new AutoscaleObservation(t.prisma, new PrometheusClient(stack.prometheusUrl), 1),
    {
      prisma: t.prisma,
      queue: {
        enqueue: async (operationId) => {
          await queue.add('operation', { operationId }, { jobId: operationId, ...OPERATION_JOB_OPTIONS });
        },
      },
      footprint: new BrokerReplicaFootprint(TEST_ADMIN_SECRET),
    },
    pino({ level: 'silent' }),
  );
}, 120_000);

afterAll(async () => {
  await queue?.obliterate({ force: true }).catch(() => {});
  await queue?.close();
  redis?.disconnect();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await t?.close();
});

const refusals = () =>
  t.prisma.auditEvent.findMany({ where: { actor: 'autoscaler', action: 'AutoscaleRefused' } });
const autoscalerResizes = () =>
  t.prisma.operation.findMany({ where: { instanceId, kind: 'instance.resize', actor: 'autoscaler' } });

describe('Autoscaler', () => {
  it('records a refused resize on the policy and does not retry it before the cooldown', async () => {
    await autoscaler.runOnce();
    const policy = await t.prisma.autoscalingPolicy.findUniqueOrThrow({ where: { instanceId } });
    expect(policy.lastRefusal).toMatch(/zones az-1 have room for 0 more broker\(s\), 1 needed/);
    expect(await refusals()).toHaveLength(1);
    expect((await refusals())[0]!.details).toMatchObject({ brokerCount: 2 });
    expect(await autoscalerResizes()).toEqual([]);

    // Later passes wait for the cooldown instead of asking again.
    await autoscaler.runOnce();
    await autoscaler.runOnce();
    expect(await refusals()).toHaveLength(1);
    const r = await owner.call('GET', `/v1/instances/${instanceId}/autoscaling-policy/recommendation`);
    expect(r.body.decision.action).toBe('none');
    expect(r.body.reason).toMatch(
      /^the last resize was refused \(zones az-1 have room for 0 more broker\(s\), 1 needed\); not retried before /,
    );
    expect(
      (await owner.call('GET', `/v1/instances/${instanceId}/autoscaling-policy`)).body.lastRefusal,
    ).toMatchObject({
      reason: policy.lastRefusal,
    });
  });

  it('after the cooldown, with room made, starts the resize as actor autoscaler through the same admission', async () => {
    await t.prisma.host.update({
      where: { zone_id: { zone: 'az-1', id: 'default' } },
      data: { capacity: 2 },
    });
    // The cooldown passing, without waiting ten minutes: the refusal is moved into the past.
    await t.prisma.autoscalingPolicy.update({
      where: { instanceId },
      data: { lastRefusedAt: new Date(Date.now() - 601_000) },
    });
    await autoscaler.runOnce();
    const [op] = await autoscalerResizes();
    expect(op).toMatchObject({ status: 'PENDING', input: { brokerCount: 2, remove: [] } });
    expect((await queue.getJob(op!.id))?.data).toEqual({ operationId: op!.id });
    const ins = await t.prisma.instance.findUniqueOrThrow({
      where: { id: instanceId },
      include: { brokers: true },
    });
    expect(ins).toMatchObject({ status: 'RESIZING', brokerCount: 2 });
    expect(ins.brokers.map((b) => b.status).sort()).toEqual(['PLANNED', 'PLANNED']);
    expect(
      (await t.prisma.autoscalingPolicy.findUniqueOrThrow({ where: { instanceId } })).lastRefusal,
    ).toBeNull();
    const audit = await t.prisma.auditEvent.findFirstOrThrow({
      where: { actor: 'autoscaler', action: 'ResizeInstance' },
    });
    expect(audit.details).toMatchObject({
      operationId: op!.id,
      brokerCount: 2,
      reason: 'brokers 1 → 2: the policy allows 2 to 3',
    });
    // While it runs, nothing more.
    await autoscaler.runOnce();
    expect(await autoscalerResizes()).toHaveLength(1);
  });
});
