/**
 * What handing a produce payload to another core costs (issue 17 item 2, docs/adr/0023): the
 * network side sends each payload to a shard and waits for a small acknowledgement, 16 in flight,
 * through a worker thread (structured-clone copy, or the ArrayBuffer transferred) or a child
 * process over a Unix socket. Reported per payload: throughput and the sending event loop's busy
 * time (event-loop utilisation × elapsed), the cost the network side pays for each hop.
 * Run: `npx tsx test/bench/shard-hop.bench.ts` (HOP_BENCH_MB=512 sets the bytes per row).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

const TOTAL = Number(process.env.HOP_BENCH_MB ?? 512) << 20;
const WINDOW = 16;

/** The shard's side: touch the payload (first and last byte, as a CRC would start and end) and ack. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => {
  const b = new Uint8Array(m.buffer ?? m);
  parentPort.postMessage(b[0] + b[b.length - 1]);
});`;

const CHILD_SOURCE = `
const net = require('node:net');
const s = net.connect(process.argv[2]);
let pending = Buffer.alloc(0);
s.on('data', (chunk) => {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  const acks = [];
  while (pending.length >= 4) {
    const size = pending.readUInt32BE(0);
    if (pending.length < 4 + size) break;
    const ack = Buffer.allocUnsafe(4);
    ack.writeUInt32BE(pending[4] + pending[3 + size]);
    acks.push(ack);
    pending = pending.subarray(4 + size);
  }
  if (acks.length) s.write(Buffer.concat(acks));
});`;

interface Row {
  readonly msgsPerS: number;
  readonly mbPerS: number;
  readonly senderUsPerMsg: number;
}

/** Sends `count` payloads of `size` through `send`, WINDOW in flight; `onAck` is wired by the caller. */
async function drive(
  size: number,
  send: (payload: Buffer) => void,
  setAck: (fn: () => void) => void,
): Promise<Row> {
  const count = Math.max(64, Math.floor(TOTAL / size));
  let sent = 0;
  let acked = 0;
  const done = new Promise<void>((resolve) => {
    setAck(() => {
      acked++;
      if (acked === count) resolve();
      else if (sent < count) {
        sent++;
        // A fresh buffer per payload, as the frame decoder allocates one per request frame.
        send(Buffer.allocUnsafeSlow(size));
      }
    });
  });
  const elu0 = performance.eventLoopUtilization();
  const started = performance.now();
  for (; sent < Math.min(WINDOW, count); ) {
    sent++;
    send(Buffer.allocUnsafeSlow(size));
  }
  await done;
  const ms = performance.now() - started;
  const elu = performance.eventLoopUtilization(elu0);
  return {
    msgsPerS: count / (ms / 1e3),
    mbPerS: (count * size) / (ms / 1e3) / 1e6,
    senderUsPerMsg: (elu.active * 1e3) / count,
  };
}

async function viaWorker(size: number, transfer: boolean): Promise<Row> {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  await once(worker, 'online');
  try {
    return await drive(
      size,
      (payload) => {
        const ab = payload.buffer as ArrayBuffer;
        if (transfer) worker.postMessage(ab, [ab]);
        else worker.postMessage(payload);
      },
      (fn) => worker.on('message', fn),
    );
  } finally {
    await worker.terminate();
  }
}

async function viaProcess(size: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-hop-'));
  const path = join(dir, 'sock');
  const script = join(dir, 'child.cjs');
  writeFileSync(script, CHILD_SOURCE);
  const server = createServer();
  server.listen(path);
  await once(server, 'listening');
  const child = fork(script, [path], { stdio: 'ignore' });
  const [sock] = (await once(server, 'connection')) as [Socket];
  sock.setNoDelay(true);
  try {
    let ack: () => void = () => {};
    let buffered = 0;
    sock.on('data', (chunk: Buffer) => {
      buffered += chunk.length;
      for (; buffered >= 4; buffered -= 4) ack();
    });
    return await drive(
      size,
      (payload) => {
        const header = Buffer.allocUnsafe(4);
        header.writeUInt32BE(payload.length);
        sock.cork();
        sock.write(header);
        sock.write(payload);
        sock.uncork();
      },
      (fn) => {
        ack = fn;
      },
    );
  } finally {
    child.kill();
    sock.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.error(
  `load average: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`| payload | hop | payloads/s | MB/s | sender busy µs per payload |\n|---|---|---:|---:|---:|`);
for (const size of [16 << 10, 1 << 20])
  for (let round = 0; round < 2; round++)
    for (const [name, run] of [
      ['worker thread, copied', () => viaWorker(size, false)],
      ['worker thread, transferred', () => viaWorker(size, true)],
      ['child process, Unix socket', () => viaProcess(size)],
    ] as const) {
      const r = await run();
      console.log(
        `| ${size >> 10} KiB | ${name} | ${r.msgsPerS.toFixed(0)} | ${r.mbPerS.toFixed(0)} | ${r.senderUsPerMsg.toFixed(1)} |`,
      );
    }
console.error(
  `load average: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
