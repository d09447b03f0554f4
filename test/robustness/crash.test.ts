/**
 * Crash safety: an idempotent producer with acks=all writes numbered messages, one request at
 * a time, to a broker that fsyncs every message (log.flush.interval.messages=1), while the
 * broker is killed with SIGKILL at random moments and restarted. Afterwards every message the
 * broker acknowledged must be in the log, in order, exactly once.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerProcess, freePort } from './brokerProcess.js';

describe('kill -9 under acks=all', () => {
  let broker: BrokerProcess;
  afterAll(() => broker?.stop());

  it('keeps every acknowledged message, in order, once', { timeout: 180_000 }, async () => {
    broker = new BrokerProcess(await freePort(), { 'log.flush.interval.messages': '1' });
    await broker.start();
    const kafka = new Kafka({
      brokers: [broker.bootstrap],
      clientId: 'crash-test',
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'crash', numPartitions: 1 }] });
    await admin.disconnect();

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acked: number[] = [];
    let kills = 0;
    let running = true;
    const chaos = (async () => {
      while (running && kills < 5) {
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
        if (!running) break;
        broker.kill9();
        kills++;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
        await broker.start();
      }
    })();
    const deadline = Date.now() + 20_000;
    for (let i = 0; Date.now() < deadline; i++) {
      // Retry the same message until it is acknowledged: idempotence must keep it single.
      for (;;) {
        try {
          await producer.send({ topic: 'crash', acks: -1, messages: [{ value: String(i) }] });
          acked.push(i);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
    running = false;
    await chaos;
    await producer.disconnect();
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(acked.length).toBeGreaterThan(50);

    const consumer = kafka.consumer({ groupId: 'crash-check' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'crash', fromBeginning: true });
    const seen: number[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(Number(message.value!.toString()));
      },
    });
    const until = Date.now() + 20_000;
    while (seen.length < acked.length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    await consumer.disconnect();

    // In order, no duplicates, and nothing acknowledged is missing.
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
    const seenSet = new Set(seen);
    expect(acked.filter((v) => !seenSet.has(v))).toEqual([]);
    console.log(`crash test: ${kills} kills, ${acked.length} acknowledged, ${seen.length} in the log`);
  });
});
