import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import {
  type PreparedRecords,
  type PrepareOptions,
  prepareProduceRecords,
} from '../server/handlers/prepareProduceRecords.js';
import { PartitionOwnership } from './PartitionOwnership.js';
import type { PrepareFailure, PrepareReply, PrepareTask } from './ShardMessages.js';

/** Smallest buffer handed to a shard; smaller records still take one (they are rare per request). */
const MIN_BUFFER_BYTES = 64 * 1024;
/** Spare buffers kept for reuse, all sizes together. */
const MAX_SPARE_BYTES = 64 * 1024 * 1024;

/** A shard thread stopped (crashed, or the pool stopped) before answering: nothing was appended. */
export class ShardStoppedError extends Error {
  constructor(readonly shard: number) {
    super(`shard thread ${shard} stopped`);
  }
}

interface Pending {
  readonly resolve: (r: PreparedRecords) => void;
  readonly reject: (e: Error) => void;
}

interface Shard {
  worker: Worker;
  readonly pending: Map<number, Pending>;
  /** Threads of this shard in a row that died before answering anything. */
  deadOnArrival: number;
  /** Given up on threads: this shard's records are prepared on the event loop. */
  inline: boolean;
}

/** A shard whose threads die this many times in a row without answering runs on the event loop. */
const MAX_DEAD_ON_ARRIVAL = 3;

/**
 * Starts a shard thread: the built ShardWorker.js next to this module, or — when this module runs
 * from its TypeScript source (the test suite) — ShardWorker.ts through tsx's loader, registered
 * inside the thread because Node 20 does not apply `--import` from a worker's execArgv.
 */
function startWorker(name: string): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./ShardWorker.js', here), { name });
  // tsx's "import" export of tsx/esm/api (require.resolve yields its CommonJS twin).
  const tsx = pathToFileURL(
    createRequire(here)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const boot = `const { workerData } = require('node:worker_threads');
import(workerData.tsx).then((m) => { m.register(); return import(workerData.entry); });`;
  return new Worker(boot, {
    eval: true,
    name,
    workerData: { tsx, entry: new URL('./ShardWorker.ts', here).href },
  });
}

/**
 * Shard threads (num.shard.threads, docs/adr/0023-broker-on-many-cores.md): each owns a share
 * of the partitions (PartitionOwnership) and does the pure per-partition work of produce
 * requests for them — validation with CRC-32C, the compacted key check, recompression — off the
 * event loop. A partition always goes to the same thread and a thread answers in the order it
 * was asked, so one partition's records come back in the order they arrived.
 *
 * A shard thread that dies fails what it had in flight with ShardStoppedError (the produce
 * handler answers those partitions KAFKA_STORAGE_ERROR, retriable, nothing appended) and is
 * started again at once; its partitions' next records go to the new thread. A shard whose threads
 * die three times in a row before answering anything is given up on: its partitions' records are
 * prepared on the event loop from then on.
 */
export class ShardPool {
  private readonly shards: Shard[] = [];
  private readonly ownership: PartitionOwnership;
  private nextId = 1;
  private stopping = false;
  /** Shard threads started again after dying, since the pool started. */
  restarts = 0;
  /**
   * Buffers back from the shards and done with, by capacity (a power of two), to carry the next
   * records: a fresh large ArrayBuffer costs zeroing, page faults and GC pressure on every request.
   */
  private readonly spare = new Map<number, ArrayBuffer[]>();
  private spareBytes = 0;
  /** Buffers a shard gave back by transfer (this pool's own), so only those are reused. */
  private readonly ours = new WeakSet<ArrayBuffer>();

  constructor(
    readonly threads: number,
    private readonly log: Logger,
  ) {
    this.ownership = new PartitionOwnership(threads);
  }

  /** Starts the threads (the broker does, as a component stopped with it). */
  start(): void {
    if (this.shards.length > 0) return;
    for (let i = 0; i < this.threads; i++) {
      const shard: Shard = {
        worker: startWorker(`fjord-shard-${i}`),
        pending: new Map(),
        deadOnArrival: 0,
        inline: false,
      };
      this.shards.push(shard);
      this.watch(i, shard);
    }
  }

  /** The running threads, by shard (to watch or, in tests, to kill one). */
  workers(): readonly Worker[] {
    return this.shards.map((s) => s.worker);
  }

  ownerOf(topic: string, partition: number): number {
    return this.ownership.ownerOf(topic, partition);
  }

  /**
   * Prepares one partition's records on its owner shard. The records are copied into a buffer
   * the shard takes over (a request frame's buffer may be shared with other frames, so it is
   * never transferred itself); the prepared bytes come back without another copy.
   */
  prepare(topic: string, partition: number, records: Buffer, opts: PrepareOptions): Promise<PreparedRecords> {
    const index = this.ownership.ownerOf(topic, partition);
    const shard = this.shards[index];
    if (this.stopping || !shard) return Promise.reject(new ShardStoppedError(index));
    if (shard.inline) return Promise.resolve(prepareProduceRecords(records, opts));
    const own = new Uint8Array(this.takeBuffer(records.length), 0, records.length);
    own.set(records);
    const id = this.nextId++;
    const task: PrepareTask = { id, records: own, opts };
    return new Promise<PreparedRecords>((resolve, reject) => {
      shard.pending.set(id, { resolve, reject });
      shard.worker.postMessage(task, [own.buffer]);
    });
  }

  /**
   * Gives back the buffer of prepared records once they are appended (or refused) and nothing
   * holds them any more; its next use overwrites them.
   */
  recycle(prepared: PreparedRecords): void {
    if (prepared.kind !== 'ok') return;
    const buffer = prepared.data.buffer as ArrayBuffer;
    if (!this.ours.has(buffer) || this.spareBytes + buffer.byteLength > MAX_SPARE_BYTES) return;
    this.ours.delete(buffer);
    const list = this.spare.get(buffer.byteLength);
    if (list) list.push(buffer);
    else this.spare.set(buffer.byteLength, [buffer]);
    this.spareBytes += buffer.byteLength;
  }

  /** Spare buffers waiting to carry records. */
  get spareBuffers(): number {
    let n = 0;
    for (const list of this.spare.values()) n += list.length;
    return n;
  }

  private takeBuffer(size: number): ArrayBuffer {
    const capacity = Math.max(MIN_BUFFER_BYTES, 2 ** Math.ceil(Math.log2(size)));
    const reused = this.spare.get(capacity)?.pop();
    if (reused) this.spareBytes -= reused.byteLength;
    return reused ?? new ArrayBuffer(capacity);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.shards.map((s) => s.worker.terminate()));
  }

  private watch(index: number, shard: Shard): void {
    const worker = shard.worker;
    let answered = false;
    worker.on('message', (m: PrepareReply | PrepareFailure) => {
      answered = true;
      shard.deadOnArrival = 0;
      const waiter = shard.pending.get(m.id);
      if (!waiter) return;
      shard.pending.delete(m.id);
      if ('failure' in m) {
        waiter.reject(new Error(`shard thread ${index} failed: ${m.failure}`));
        return;
      }
      const r = m.result;
      if (r.kind === 'ok' && r.transferred) this.ours.add(r.data.buffer as ArrayBuffer);
      waiter.resolve(
        r.kind === 'ok'
          ? {
              kind: 'ok',
              data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength),
              recordCount: r.recordCount,
              batches: r.batches,
            }
          : r,
      );
    });
    worker.on('error', (err) => this.log.error({ err, shard: index }, 'shard thread failed'));
    worker.on('exit', (code) => {
      if (shard.worker !== worker) return;
      const lost = [...shard.pending.values()];
      shard.pending.clear();
      for (const p of lost) p.reject(new ShardStoppedError(index));
      if (this.stopping) return;
      if (!answered && ++shard.deadOnArrival >= MAX_DEAD_ON_ARRIVAL) {
        // A thread that cannot even start (a broken install) would otherwise restart forever.
        shard.inline = true;
        this.log.error(
          { shard: index, code },
          'shard thread keeps dying at start; its partitions are prepared on the event loop',
        );
        return;
      }
      this.restarts++;
      this.log.error({ shard: index, code, inFlight: lost.length }, 'shard thread exited, starting it again');
      shard.worker = startWorker(`fjord-shard-${index}`);
      this.watch(index, shard);
    });
  }
}
