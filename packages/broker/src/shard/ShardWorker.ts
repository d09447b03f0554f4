/**
 * A shard thread's entry point (docs/adr/0023-broker-on-many-cores.md): prepares produce
 * records of the partitions its shard owns and hands the bytes back without copying them.
 */
import { parentPort } from 'node:worker_threads';
import { prepareProduceRecords } from '../server/handlers/prepareProduceRecords.js';
import type { PrepareFailure, PrepareReply, PrepareTask } from './ShardMessages.js';

const port = parentPort;
if (!port) throw new Error('ShardWorker runs as a worker thread');

port.on('message', (task: PrepareTask) => {
  const input = task.records;
  let result: ReturnType<typeof prepareProduceRecords>;
  try {
    result = prepareProduceRecords(Buffer.from(input.buffer, input.byteOffset, input.byteLength), task.opts);
  } catch (e) {
    const failure: PrepareFailure = { id: task.id, failure: (e as Error).stack ?? String(e) };
    port.postMessage(failure);
    return;
  }
  if (result.kind !== 'ok') {
    const reply: PrepareReply = { id: task.id, result };
    port.postMessage(reply);
    return;
  }
  const data = new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.byteLength);
  // The task's buffer is this thread's alone: it goes back by transfer. Recompressed output may
  // sit in Node's shared allocation pool, which must not be transferred, so it is copied.
  const transferred = data.buffer === input.buffer;
  const reply: PrepareReply = {
    id: task.id,
    result: { kind: 'ok', data, transferred, recordCount: result.recordCount, batches: result.batches },
  };
  port.postMessage(reply, transferred ? [data.buffer as ArrayBuffer] : []);
});
