/**
 * Micro-benchmark of the protocol hot paths: decoding Produce requests, encoding Fetch
 * responses, validating record batches and CRC-32C. Run: npx tsx test/bench/protocol.bench.ts
 * Prints a Markdown table; numbers are from plain hrtime loops after a warm-up.
 */
import {
  API_CODECS,
  ApiKey,
  buildRecordBatch,
  crc32c,
  encodeRequestFrame,
  encodeResponseFrame,
  FrameDecoder,
  type FrameSink,
  Reader,
  validateProduceRecords,
  Writer,
} from '@fjord/protocol';

function bench(name: string, bytesPerOp: number, fn: () => void): string {
  for (let i = 0; i < 2000; i++) fn();
  let ops = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < 1_000_000_000n) {
    for (let i = 0; i < 200; i++) fn();
    ops += 200;
    elapsed = process.hrtime.bigint() - start;
  }
  const secs = Number(elapsed) / 1e9;
  const opsPerSec = ops / secs;
  const mbps = (opsPerSec * bytesPerOp) / 1e6;
  return `| ${name} | ${Math.round(opsPerSec).toLocaleString('en')} | ${bytesPerOp ? mbps.toFixed(0) : '—'} |`;
}

// A produce request with one 16 KiB batch of 1 KiB records per partition, 4 partitions.
const batch = buildRecordBatch({
  records: Array.from({ length: 16 }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.alloc(1024, i),
  })),
});
const produceFrame = encodeRequestFrame(ApiKey.Produce, 9, 1, 'bench', {
  transactionalId: null,
  acks: 1,
  timeoutMs: 30000,
  topicData: [{ name: 'bench', partitionData: [0, 1, 2, 3].map((index) => ({ index, records: batch })) }],
});
const body = produceFrame.subarray(4);
const decodeProduce = API_CODECS[ApiKey.Produce].decodeRequest[9]!;
const headerSize = 2 + 2 + 4 + 2 + 5 + 1; // v2 header with client id 'bench'

const fetchBody = {
  throttleTimeMs: 0,
  errorCode: 0,
  sessionId: 0,
  responses: [
    {
      topic: 'bench',
      topicId: '00000000-0000-0000-0000-000000000000',
      partitions: [0, 1, 2, 3].map((partitionIndex) => ({
        partitionIndex,
        errorCode: 0,
        highWatermark: 1000n,
        lastStableOffset: 1000n,
        logStartOffset: 0n,
        abortedTransactions: [],
        preferredReadReplica: -1,
        records: Buffer.concat(Array.from({ length: 16 }, () => batch)),
      })),
    },
  ],
};
const fetchBytes = fetchBody.responses[0]!.partitions.reduce((n, p) => n + p.records.length, 0);
const big = Buffer.alloc(1024 * 1024, 7);
const small = Buffer.alloc(16 * 1024, 7);

/** A request stream cut into 64 KiB reads, as a socket delivers it. */
function socketReads(frameSize: number, frames: number): Buffer[] {
  const one = Buffer.alloc(4 + frameSize, 7);
  one.writeInt32BE(frameSize, 0);
  const all = Buffer.concat(Array.from({ length: frames }, () => one));
  const reads: Buffer[] = [];
  for (let i = 0; i < all.length; i += 65536) reads.push(all.subarray(i, i + 65536));
  return reads;
}
const admitAll: FrameSink = { reserve: () => true, frame: () => {} };
const oneMiBFrames = socketReads(1 << 20, 16);
const smallFrames = socketReads(100, 2000);

const rows = [
  bench('frame 16 x 1 MiB requests from 64 KiB reads', 16 << 20, () => {
    const d = new FrameDecoder(200 << 20);
    for (const r of oneMiBFrames) d.push(r, admitAll);
  }),
  bench('frame 2,000 x 100 B requests from 64 KiB reads', 2000 * 100, () => {
    const d = new FrameDecoder(200 << 20);
    for (const r of smallFrames) d.push(r, admitAll);
  }),
  bench('decode Produce v9 (4 partitions x 16 KiB batch)', body.length, () => {
    decodeProduce(new Reader(body, headerSize));
  }),
  bench('validate 16 KiB record batch (headers + CRC-32C)', batch.length, () => {
    validateProduceRecords(batch, { produceVersion: 9, maxBatchBytes: 1_048_588 });
  }),
  bench('encode Fetch v12 response (4 x 256 KiB, zero-copy)', fetchBytes, () => {
    encodeResponseFrame(ApiKey.Fetch, 12, 1, fetchBody);
  }),
  bench('encode Fetch v12 response into one buffer (copying)', fetchBytes, () => {
    const w = new Writer(1024);
    API_CODECS[ApiKey.Fetch].encodeResponse[12]!(w, fetchBody);
    w.toBuffer();
  }),
  bench('CRC-32C 1 MiB', big.length, () => {
    crc32c(big);
  }),
  bench('CRC-32C 16 KiB', small.length, () => {
    crc32c(small);
  }),
];
console.log('| operation | ops/s | MB/s |\n|---|---:|---:|');
console.log(rows.join('\n'));
