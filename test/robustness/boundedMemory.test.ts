/**
 * Bounded memory under hostile load: a thousand connections each announce a 100 MiB request and
 * trickle its bytes, and zip bombs arrive in every codec, while a real client (kafkajs) keeps
 * producing and consuming. The broker (a real process) holds only bytes that arrived, reads a
 * frame's body only when its request memory pool has room, stops decompressing at the limit,
 * and keeps serving that client throughout.
 */
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import {
  ApiKey,
  buildRecordBatch,
  CompressionCodec,
  compress,
  crc32c,
  decodeResponseFrame,
  ErrorCode,
  encodeRequestFrame,
} from '@fjord/protocol';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerProcess, freePort } from './brokerProcess.js';

const MiB = 1024 * 1024;
const CONNECTIONS = 1000;
const POOL_BYTES = 64 * MiB;

/** A connection that announces a 100 MiB request and then sends 1 KiB every 200 ms. */
function trickler(port: number): { socket: Socket; stop(): void } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    const size = Buffer.alloc(4);
    size.writeInt32BE(100 * MiB);
    socket.write(size);
    timer = setInterval(() => socket.write(Buffer.alloc(1024, 0x41)), 200);
  });
  return {
    socket,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** A record batch whose compressed payload is `payload` as given (CRC made right). */
function batchWithPayload(codec: number, payload: Buffer): Buffer {
  const base = buildRecordBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('v') }] });
  const header = Buffer.from(base.subarray(0, 61));
  header.writeInt32BE(61 - 12 + payload.length, 8);
  header.writeInt16BE(codec, 21);
  const batch = Buffer.concat([header, payload]);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

/** Compressed payloads under 1 MiB whose output would be hundreds of MiB (or that claim so). */
function bombs(): [string, number, Buffer][] {
  const zeros = Buffer.alloc(16 * MiB);
  const gzipMember = gzipSync(zeros);
  const zstdFrame = compress(CompressionCodec.zstd, Buffer.alloc(64 * MiB));
  const lz4One = compress(CompressionCodec.lz4, Buffer.alloc(4 * MiB));
  const lz4Block = lz4One.subarray(7, 7 + 4 + (lz4One.readUInt32LE(7) & 0x7fffffff));
  // snappy cannot expand 1 MiB into more than a few tens of MiB: its bomb is a block that claims 2 GiB.
  const snappyFramed = compress(CompressionCodec.snappy, Buffer.alloc(32 * 1024));
  const snappyBlock = snappyFramed.subarray(20, 20 + snappyFramed.readInt32BE(16));
  let n = 0;
  while ((snappyBlock[n]! & 0x80) !== 0) n++;
  const lying = Buffer.concat([Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08]), snappyBlock.subarray(n + 1)]);
  const lyingLength = Buffer.alloc(4);
  lyingLength.writeInt32BE(lying.length);
  return [
    ['gzip', CompressionCodec.gzip, Buffer.concat(Array.from({ length: 32 }, () => gzipMember))],
    ['zstd', CompressionCodec.zstd, Buffer.concat(Array.from({ length: 8 }, () => zstdFrame))],
    [
      'lz4',
      CompressionCodec.lz4,
      Buffer.concat([lz4One.subarray(0, 7), ...Array.from({ length: 48 }, () => lz4Block), Buffer.alloc(4)]),
    ],
    ['snappy', CompressionCodec.snappy, Buffer.concat([snappyFramed.subarray(0, 16), lyingLength, lying])],
  ];
}

/** Sends one Produce v7 over its own socket; resolves with the partition's error code. */
function produceRaw(port: number, topic: string, records: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      const { body } = decodeResponseFrame(ApiKey.Produce, 7, buf.subarray(4));
      socket.destroy();
      resolve(body.responses[0]!.partitionResponses[0]!.errorCode);
    });
    socket.on('connect', () =>
      socket.write(
        encodeRequestFrame(ApiKey.Produce, 7, 1, 'bomber', {
          transactionalId: null,
          acks: 1,
          timeoutMs: 5000,
          topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
        }),
      ),
    );
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function externalMemoryMiB(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('nodejs_external_memory_bytes'));
  return Number(line!.split(' ')[1]) / MiB;
}

describe('bounded memory', () => {
  let broker: BrokerProcess;
  const trickling: ReturnType<typeof trickler>[] = [];
  afterAll(async () => {
    for (const t of trickling) t.stop();
    await broker?.stop();
  });

  it('holds a thousand trickled 100 MiB requests and zip bombs in every codec while serving a real client', {
    timeout: 120_000,
  }, async () => {
    const metricsPort = await freePort();
    broker = new BrokerProcess(await freePort(), {
      'queued.max.request.bytes': String(POOL_BYTES),
      'fjord.metrics.listen': `127.0.0.1:${metricsPort}`,
    });
    await broker.start();
    const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'steady', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: 'steady', numPartitions: 1 },
        // Compacted: the broker decompresses every batch to check its keys, as Kafka's LogValidator.
        { topic: 'bombed', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'steady', messages: [{ value: 'before' }] });
    const baseline = broker.rssMiB();

    const bombed = bombs();
    for (const [, , payload] of bombed) expect(payload.length).toBeLessThan(MiB);
    for (let i = 0; i < CONNECTIONS; i++) trickling.push(trickler(broker.port));
    while (trickling.some((t) => t.socket.connecting)) await new Promise((r) => setTimeout(r, 50));
    const produced: string[] = [];
    const bombResults: Record<string, number> = {};
    const sendMs: number[] = [];
    let peakRss = 0;
    let peakExternal = 0;
    // Five seconds (and at least 20 rounds) of trickling: each round the client produces, a bomb
    // goes in while there are any left, and the broker's memory is read.
    const until = Date.now() + 5_000;
    for (let round = 0; round < 20 || Date.now() < until; round++) {
      const bomb = bombed[round];
      if (bomb)
        bombResults[bomb[0]] = await produceRaw(broker.port, 'bombed', batchWithPayload(bomb[1], bomb[2]));
      const sent = Date.now();
      await producer.send({ topic: 'steady', messages: [{ value: `during-${produced.length}` }] });
      sendMs.push(Date.now() - sent);
      produced.push(`during-${produced.length}`);
      peakRss = Math.max(peakRss, broker.rssMiB());
      peakExternal = Math.max(peakExternal, await externalMemoryMiB(metricsPort));
      await new Promise((r) => setTimeout(r, 100));
    }
    const open = trickling.filter((t) => !t.socket.destroyed).length;

    const consumer = kafka.consumer({ groupId: 'steady-check' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'steady', fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    const deadline = Date.now() + 30_000;
    while (values.length < produced.length + 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await consumer.disconnect();
    await producer.disconnect();

    console.log(
      `bounded memory: ${open}/${CONNECTIONS} trickling connections open, ${produced.length} produced meanwhile, ` +
        `RSS ${baseline.toFixed(0)} → peak ${peakRss.toFixed(0)} MiB, external memory peak ${peakExternal.toFixed(0)} MiB, ` +
        `bombs ${JSON.stringify(bombResults)}, produce latency ms p50 ${percentile(sendMs, 0.5)} max ${Math.max(...sendMs)}`,
    );
    expect(values).toEqual(['before', ...produced]);
    // Every bomb is refused as a corrupt batch, nothing of it decompressed past the limit.
    expect(bombResults).toEqual({
      gzip: ErrorCode.CORRUPT_MESSAGE,
      zstd: ErrorCode.CORRUPT_MESSAGE,
      lz4: ErrorCode.CORRUPT_MESSAGE,
      snappy: ErrorCode.CORRUPT_MESSAGE,
    });
    // The tricklers stay connected (muted, not dropped), and cost the broker far less than what they announced.
    expect(open).toBe(CONNECTIONS);
    expect(peakRss).toBeLessThan(baseline + 256);
    expect(peakExternal).toBeLessThan(256);
  });
});
