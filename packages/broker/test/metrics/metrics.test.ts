/**
 * The /metrics endpoint of a real in-process broker, driven by kafkajs over real sockets and
 * scraped over HTTP.
 */
import { ConfigError } from '@fjord/metadata';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBrokerConfig } from '../../src/config/BrokerConfig.js';
import { eventually, exact, family, http, parsePromText, type Sample, scrape } from './promText.js';

const TOPIC = 'metered';
const PARTITIONS = 3;
const PER_PARTITION = 40;
const VALUE_BYTES = 100;

const sum = (xs: readonly Sample[]) => xs.reduce((a, s) => a + s.value, 0);
const ofTopic = (xs: readonly Sample[], topic: string) => xs.filter((s) => s.labels.topic === topic);

describe('broker /metrics', () => {
  let broker: RunningBroker;
  let kafka: Kafka;
  let port: number;
  beforeAll(async () => {
    broker = await startBroker({ 'fjord.metrics.listen': '127.0.0.1:0' });
    port = broker.broker.metricsPort!;
    kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'metrics-test', logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('counts produced and fetched traffic per topic and in aggregate, and log offsets per partition', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }], waitForLeaders: true });
    await admin.disconnect();
    const before = await scrape(port);
    const producer = kafka.producer();
    await producer.connect();
    const value = 'x'.repeat(VALUE_BYTES);
    // One send per partition per round: several batches per partition, none compressed.
    for (let round = 0; round < 4; round++)
      for (let p = 0; p < PARTITIONS; p++)
        await producer.send({
          topic: TOPIC,
          acks: -1,
          messages: Array.from({ length: PER_PARTITION / 4 }, () => ({ partition: p, value })),
        });
    await producer.disconnect();

    let consumed = 0;
    const consumer = kafka.consumer({ groupId: 'metrics-reader' });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        consumed++;
      },
    });
    await eventually(async () => consumed >= PARTITIONS * PER_PARTITION, 'every message consumed');

    const m = await scrape(port);
    await consumer.disconnect();
    const total = PARTITIONS * PER_PARTITION;
    expect(exact(m, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: TOPIC })).toBe(total);
    // The aggregate also holds __consumer_offsets commits, so it is at least this topic's count.
    const aggIn = exact(m, 'kafka_server_brokertopicmetrics_messagesin_total')!;
    expect(
      aggIn - (exact(before, 'kafka_server_brokertopicmetrics_messagesin_total') ?? 0),
    ).toBeGreaterThanOrEqual(total);

    // Bytes in are the batches as sent; stored uncompressed and unchanged, so they are the log size.
    const sizes = ofTopic(family(m, 'kafka_log_log_size'), TOPIC);
    expect(sizes).toHaveLength(PARTITIONS);
    const bytesIn = exact(m, 'kafka_server_brokertopicmetrics_bytesin_total', { topic: TOPIC })!;
    expect(bytesIn).toBe(sum(sizes));
    expect(bytesIn).toBeGreaterThan(total * VALUE_BYTES);
    expect(exact(m, 'kafka_server_brokertopicmetrics_bytesin_total')!).toBeGreaterThanOrEqual(bytesIn);
    // The consumer read every batch at least once.
    const bytesOut = exact(m, 'kafka_server_brokertopicmetrics_bytesout_total', { topic: TOPIC })!;
    expect(bytesOut).toBeGreaterThanOrEqual(bytesIn);
    expect(exact(m, 'kafka_server_brokertopicmetrics_bytesout_total')!).toBeGreaterThanOrEqual(bytesOut);
    expect(exact(m, 'kafka_server_brokertopicmetrics_failedproducerequests_total', { topic: TOPIC })).toBe(0);
    // A standalone broker replicates nothing.
    expect(exact(m, 'kafka_server_brokertopicmetrics_replicationbytesout_total')).toBe(0);

    for (let p = 0; p < PARTITIONS; p++) {
      const labels = { topic: TOPIC, partition: String(p) };
      expect(exact(m, 'kafka_log_log_logendoffset', labels)).toBe(PER_PARTITION);
      expect(exact(m, 'kafka_log_log_logstartoffset', labels)).toBe(0);
    }

    const produces = exact(m, 'kafka_network_requestmetrics_requests_total', { request: 'Produce' })!;
    expect(produces).toBeGreaterThanOrEqual(4 * PARTITIONS);
    expect(exact(m, 'kafka_network_requestmetrics_requests_total', { request: 'Fetch' })).toBeGreaterThan(0);
    expect(exact(m, 'kafka_network_requestmetrics_requests_total', { request: 'Metadata' })).toBeGreaterThan(
      0,
    );
    // The histogram's count matches the counter, and its +Inf bucket holds everything.
    expect(exact(m, 'kafka_network_requestmetrics_totaltimems_count', { request: 'Produce' })).toBe(produces);
    expect(
      exact(m, 'kafka_network_requestmetrics_totaltimems_bucket', { request: 'Produce', le: '+Inf' }),
    ).toBe(produces);
    // The consumer was still connected when scraped; nobody used the SASL listeners.
    expect(
      exact(m, 'kafka_server_socketservermetrics_connection_count', { listener: 'PLAINTEXT' }),
    ).toBeGreaterThan(0);
    expect(exact(m, 'kafka_server_socketservermetrics_connection_count', { listener: 'SASL_SSL' })).toBe(0);

    // Standalone: this broker is the controller, leads everything, nothing under-replicated.
    expect(exact(m, 'kafka_controller_kafkacontroller_activecontrollercount')).toBe(1);
    expect(exact(m, 'kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(0);
    expect(exact(m, 'kafka_server_replicamanager_underreplicatedpartitions')).toBe(0);
    const partitions = exact(m, 'kafka_server_replicamanager_partitioncount')!;
    expect(partitions).toBeGreaterThanOrEqual(PARTITIONS);
    expect(exact(m, 'kafka_server_replicamanager_leadercount')).toBe(partitions);

    const dir = broker.dataDir;
    expect(exact(m, 'kafka_log_logdir_total_bytes', { dir })).toBeGreaterThan(0);
    expect(exact(m, 'kafka_log_logdir_used_bytes', { dir })).toBeGreaterThan(0);
    expect(exact(m, 'kafka_log_logdir_online', { dir })).toBe(1);
    // prom-client's process metrics are there.
    expect(family(m, 'nodejs_eventloop_lag_seconds').length).toBe(1);
    expect(family(m, 'process_resident_memory_bytes').length).toBe(1);
  });

  it('reports consumer lag and committed offsets on the group coordinator', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const group = 'lagging';
    const committed = [10, 25, PER_PARTITION];
    await admin.setOffsets({
      groupId: group,
      topic: TOPIC,
      partitions: committed.map((offset, partition) => ({ partition, offset: String(offset) })),
    });
    await admin.disconnect();
    const m = await scrape(port);
    committed.forEach((offset, partition) => {
      const labels = { group, topic: TOPIC, partition: String(partition) };
      expect(exact(m, 'kafka_consumergroup_current_offset', labels)).toBe(offset);
      expect(exact(m, 'kafka_consumergroup_lag', labels)).toBe(PER_PARTITION - offset);
    });
    // The group that read everything has no lag left.
    for (let p = 0; p < PARTITIONS; p++)
      expect(
        exact(m, 'kafka_consumergroup_lag', { group: 'metrics-reader', topic: TOPIC, partition: String(p) }),
      ).toBe(0);
  });

  it('answers GET and HEAD on /metrics (query ignored), 404 elsewhere, 405 for other methods', async () => {
    const q = await http(port, '/metrics?garbage=%ZZ&&x');
    expect(q.status).toBe(200);
    expect(String(q.headers['content-type'])).toContain('text/plain');
    expect(parsePromText(q.body).length).toBeGreaterThan(10);
    const head = await http(port, '/metrics', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await http(port, '/metrics', 'POST')).status).toBe(405);
    expect((await http(port, '/metrics', 'DELETE')).status).toBe(405);
    for (const path of ['/', '/metrics/', '/metricsx', '/../metrics', '/%00', '/metrics%3Fa'])
      expect((await http(port, path)).status, path).toBe(404);
    // Still serving after all that.
    expect((await scrape(port)).length).toBeGreaterThan(10);
  });

  it('refuses an invalid fjord.metrics.listen, naming the key', () => {
    for (const bad of ['9100', 'host:', ':9100', 'host:99999', 'a b:1', 'http://h:1'])
      expect(() => resolveBrokerConfig({ overrides: new Map([['fjord.metrics.listen', bad]]) }), bad).toThrow(
        /fjord\.metrics\.listen/,
      );
    expect(() =>
      resolveBrokerConfig({ overrides: new Map([['fjord.metrics.partition.series.max', '-1']]) }),
    ).toThrow(ConfigError);
    const ok = resolveBrokerConfig({ overrides: new Map([['fjord.metrics.listen', '[::1]:9100']]) });
    expect(ok.values.get('fjord.metrics.listen')).toBe('[::1]:9100');
  });
});

describe('per-partition series cap', () => {
  let broker: RunningBroker;
  afterAll(async () => {
    await broker?.stop();
  });

  it('leaves out per-partition series past fjord.metrics.partition.series.max and says how many', async () => {
    broker = await startBroker({
      'fjord.metrics.listen': '127.0.0.1:0',
      'fjord.metrics.partition.series.max': '4',
    });
    await broker.broker.services.ensureTopic('wide', 10);
    const m = await scrape(broker.broker.metricsPort!);
    const hosted = exact(m, 'kafka_server_replicamanager_partitioncount')!;
    expect(hosted).toBeGreaterThanOrEqual(10);
    for (const name of ['kafka_log_log_size', 'kafka_log_log_logendoffset', 'kafka_log_log_logstartoffset'])
      expect(family(m, name), name).toHaveLength(4);
    expect(exact(m, 'fjord_metrics_partition_series_dropped', { family: 'log' })).toBe(hosted - 4);
    // Broker-wide series stay.
    expect(exact(m, 'kafka_server_brokertopicmetrics_messagesin_total')).toBe(0);
  });

  it('turns them off at 0, and the broker serves no /metrics without fjord.metrics.listen', async () => {
    await broker.stop();
    const off = await startBroker({
      'fjord.metrics.listen': '127.0.0.1:0',
      'fjord.metrics.partition.series.max': '0',
    });
    try {
      await off.broker.services.ensureTopic('wide', 10);
      const m = await scrape(off.broker.metricsPort!);
      expect(family(m, 'kafka_log_log_size')).toHaveLength(0);
      expect(exact(m, 'fjord_metrics_partition_series_dropped', { family: 'log' })).toBeGreaterThanOrEqual(
        10,
      );
    } finally {
      await off.stop();
    }
    broker = await startBroker();
    expect(broker.broker.metricsPort).toBeUndefined();
    expect(broker.broker.services.metrics).toBeUndefined();
  });
});
