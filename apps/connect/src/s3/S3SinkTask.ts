import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3SinkConfig, S3SinkSecrets } from '@fjord/contracts';
import { unseal } from '@fjord/fleet';
import { abortableSleep } from '../abortableSleep.js';
import { DeadLetterQueue } from '../deadLetter/DeadLetterQueue.js';
import { deadLetterRecord, failureReason } from '../deadLetter/deadLetterRecord.js';
import type { RecordFailure } from '../deadLetter/recordFailure.js';
import { checkDialTargets, guardedAgents } from '../dialTargets.js';
import { type FetchedPartition, KafkaSource } from '../KafkaSource.js';
import { instanceEndpoint } from '../kafkaEndpoint.js';
import type { TaskContext } from '../TaskContext.js';
import { assignedPartitions } from '../taskAssignment.js';
import { objectFormat } from './objectFormats.js';
import { objectKey, placementFailure } from './objectLayout.js';
import { PartitionBuffer } from './PartitionBuffer.js';

const FETCH_WAIT_MS = 500;
/** How long a task with no partitions yet (topics not created) waits before looking again. */
const NO_PARTITIONS_WAIT_MS = 2000;

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Every record before it is in the bucket (as committed). */
  committed: bigint;
  /** Where the next fetch starts. */
  position: bigint;
  readonly buffer: PartitionBuffer<unknown>;
}

/**
 * The object-storage sink: reads its partitions from the instance and writes JSON-lines gzip or
 * Parquet objects named by topic, partition, hour and offset range. Exactly once: before an object
 * is written its range is committed as pending, then it is written, then the offset after it is
 * committed; whoever resumes the partition writes a pending range again under the same name
 * (docs/adr/0022). Records it cannot place in an hour follow `errors` (fail, or dead-letter topic).
 */
export async function runS3Sink(ctx: TaskContext): Promise<void> {
  const { connector, lease, store, signal } = ctx;
  const config = S3SinkConfig.parse(connector.config);
  const secrets = S3SinkSecrets.parse(JSON.parse(unseal(connector.sealedSecrets, ctx.adminSecret)));
  await checkDialTargets('s3-sink', config, ctx.allowedNetworks);
  const s3 = new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    // Every connection, to the endpoint or AWS, goes to an address the egress rules allow.
    requestHandler: guardedAgents(ctx.allowedNetworks),
    credentials: { accessKeyId: secrets.accessKeyId, secretAccessKey: secrets.secretAccessKey },
    // Checksums only where S3 requires them: S3-compatible servers often know no other.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const format = objectFormat(config.format);
  const endpoint = await instanceEndpoint(store, connector.instanceId, ctx.adminSecret);
  const clientId = `fjord-connect-${connector.id}-${lease.task}`;
  const source = new KafkaSource(endpoint, clientId);
  const { tolerance, deadLetterTopic } = config.errors;
  const dlq = deadLetterTopic ? new DeadLetterQueue(endpoint, clientId, deadLetterTopic) : null;
  const labels = { instance: connector.instanceId, connector: connector.id, task: String(lease.task) };
  try {
    await dlq?.check();
    let mine: { topic: string; partition: number }[] = [];
    while (!signal.aborted) {
      const counts = await source.partitions(config.topics);
      mine = assignedPartitions(counts, connector.tasksMax, lease.task);
      if (mine.length > 0) break;
      ctx.healthy(); // reachable; nothing to read yet
      await abortableSleep(NO_PARTITIONS_WAIT_MS, signal);
    }
    if (signal.aborted) return;

    const progress = new Map(
      (await store.progress(connector.id)).map((p) => [`${p.topic}/${p.partition}`, p]),
    );
    const states: PartitionState[] = [];
    const byTopic = new Map<string, number[]>();
    for (const m of mine)
      if (!progress.has(`${m.topic}/${m.partition}`))
        byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m.partition]);
    const earliest = new Map<string, bigint>();
    for (const [topic, parts] of byTopic) {
      const offs = await source.earliest(topic, parts);
      for (const [i, p] of parts.entries()) earliest.set(`${topic}/${p}`, offs[i] ?? 0n);
    }
    for (const m of mine) {
      const k = `${m.topic}/${m.partition}`;
      const p = progress.get(k);
      const start = p?.offset ?? earliest.get(k) ?? 0n;
      states.push({
        topic: m.topic,
        partition: m.partition,
        committed: start,
        position: start,
        buffer: new PartitionBuffer(config, p?.pending ?? null),
      });
    }
    const stateOf = new Map(states.map((s) => [`${s.topic}/${s.partition}`, s]));

    // RUNNING only once the sink took an object, or while there is nothing to write: a task that
    // reads but cannot write stays FAILED with its reason through its retries.
    let shownHealthy = false;
    const showHealthy = () => {
      if (shownHealthy) return;
      shownHealthy = true;
      ctx.healthy();
    };

    const flush = async (s: PartitionState) => {
      const closed = s.buffer.take();
      const range = { first: closed.first, last: closed.last };
      // The range is named before the object exists: a crash between the two leaves a pending
      // range that the next holder writes again, whole, under the same key.
      await store.commit(lease, {
        topic: s.topic,
        partition: s.partition,
        offset: s.committed,
        pending: range,
      });
      const body = await format.body(closed.entries);
      await s3.send(
        new PutObjectCommand({
          Bucket: config.bucket,
          Key: objectKey(
            config.prefix,
            s.topic,
            s.partition,
            closed.firstTimestamp,
            closed.first,
            closed.last,
            format.extension,
          ),
          Body: body,
          ContentType: format.contentType,
        }),
        { abortSignal: signal },
      );
      const next = closed.last + 1n;
      await store.commit(lease, { topic: s.topic, partition: s.partition, offset: next, pending: null });
      s.committed = next;
      ctx.metrics.records.inc(labels, closed.entries.length);
      ctx.metrics.bytes.inc(labels, closed.bytes);
      ctx.metrics.objects.inc(labels);
      showHealthy();
    };

    /**
     * A record the sink cannot handle: the task fails (tolerance none) or it is skipped and sent to
     * the dead-letter topic before any commit can pass it (so a crash sends it again, never loses it).
     */
    const skip = async (s: PartitionState, failure: RecordFailure) => {
      if (tolerance === 'none') throw new Error(failureReason(failure));
      ctx.log.warn({ offset: String(failure.record.offset), why: failure.message }, 'record skipped');
      ctx.metrics.skipped.inc(labels);
      await dlq?.send([
        deadLetterRecord(failure, {
          connectorName: connector.name,
          task: lease.task,
          executingClass: 'S3SinkTask',
        }),
      ]);
      // Nothing open before it: the committed offset passes it (stored with the next object's range).
      if (s.buffer.isEmpty) s.committed = failure.record.offset + 1n;
    };

    const absorb = async (f: FetchedPartition) => {
      const s = stateOf.get(`${f.topic}/${f.partition}`);
      if (!s) return;
      const now = Date.now();
      for (const r of f.records) {
        const failure = placementFailure(r);
        if (failure) {
          await skip(s, failure);
          continue;
        }
        if (s.buffer.startsNewObject(r.timestamp)) await flush(s);
        const { entry, bytes } = format.entryOf(r);
        s.buffer.add(r.offset, r.timestamp, entry, bytes, now);
        if (s.buffer.isFull()) await flush(s);
      }
      s.position = f.nextOffset;
      // An empty partition past its committed offset (compacted away, retention) moves on too.
      if (s.buffer.isEmpty && f.records.length === 0 && f.nextOffset > s.committed)
        s.committed = f.nextOffset;
      ctx.metrics.lag.set(
        {
          instance: connector.instanceId,
          connector: connector.id,
          topic: f.topic,
          partition: String(f.partition),
        },
        Number(f.highWatermark - s.committed),
      );
    };

    while (!signal.aborted) {
      const fetched = await source.fetch(
        states.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.position })),
        FETCH_WAIT_MS,
      );
      if (signal.aborted) return; // paused or lost meanwhile: the open objects are dropped, never half-written
      for (const f of fetched) await absorb(f);
      const now = Date.now();
      for (const s of states) if (s.buffer.isDue(now)) await flush(s);
      if (states.every((s) => s.buffer.isEmpty)) showHealthy();
    }
  } finally {
    await source.close();
    await dlq?.close();
    s3.destroy();
  }
}
