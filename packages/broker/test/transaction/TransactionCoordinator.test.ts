import { ErrorCode } from '@fjord/protocol';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TxnMarker } from '../../src/replica/ControlRecords.js';
import {
  type TopicPartition,
  TransactionCoordinator,
  type TransactionMarkerSender,
  type TransactionStateLog,
} from '../../src/transaction/TransactionCoordinator.js';
import {
  decodeTransactionLogValue,
  encodeTransactionLogValue,
  type TransactionLogValue,
} from '../../src/transaction/TransactionLogRecords.js';

/** The state log as records (through the codec, as a new coordinator would read them). */
class MemoryStateLog implements TransactionStateLog {
  readonly records: { id: string; value: TransactionLogValue | null }[] = [];
  partitionOf(): number {
    return 0;
  }
  coordinatorEpoch(): number {
    return 3;
  }
  async append(id: string, value: TransactionLogValue | null): Promise<void> {
    this.records.push({ id, value: value && decodeTransactionLogValue(encodeTransactionLogValue(value)) });
  }
  lastValues(): Map<string, TransactionLogValue | null> {
    return new Map(this.records.map((r) => [r.id, r.value]));
  }
}

class RecordingMarkers implements TransactionMarkerSender {
  readonly sent: { marker: TxnMarker; partitions: readonly TopicPartition[] }[] = [];
  async send(marker: TxnMarker, partitions: readonly TopicPartition[]): Promise<boolean> {
    this.sent.push({ marker, partitions });
    return true;
  }
}

let now = 1_000_000;
let nextProducerId = 100n;
let stateLog: MemoryStateLog;
let markers: RecordingMarkers;
let tc: TransactionCoordinator;
const log = pino({ level: 'silent' });
const make = () =>
  new TransactionCoordinator(
    { maxTimeoutMs: 900_000, transactionalIdExpirationMs: 60_000 },
    stateLog,
    markers,
    async () => nextProducerId++,
    () => now,
    log,
  );

beforeEach(() => {
  stateLog = new MemoryStateLog();
  markers = new RecordingMarkers();
  tc = make();
  tc.beginLoad(0);
  tc.completeLoad(0, new Map());
});

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('TransactionCoordinator', () => {
  it('writes Prepare*, sends markers with the coordinator epoch, then Complete*', async () => {
    const { producerId, producerEpoch } = await tc.initProducerId('a', 60_000, undefined);
    expect(await tc.addPartitions('a', producerId, producerEpoch, [{ topic: 't', partition: 1 }])).toBe(
      ErrorCode.NONE,
    );
    expect(await tc.endTransaction('a', producerId, producerEpoch, true)).toBe(ErrorCode.NONE);
    await settle();
    expect(markers.sent).toEqual([
      {
        marker: { producerId, producerEpoch, coordinatorEpoch: 3, commit: true },
        partitions: [{ topic: 't', partition: 1 }],
      },
    ]);
    expect(stateLog.records.map((r) => r.value?.state)).toEqual([
      'Empty',
      'Ongoing',
      'PrepareCommit',
      'CompleteCommit',
    ]);
    // A retried commit is answered again; an abort of a committed transaction is refused.
    expect(await tc.endTransaction('a', producerId, producerEpoch, true)).toBe(ErrorCode.NONE);
    expect(await tc.endTransaction('a', producerId, producerEpoch, false)).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('gives a producer a new id when its epoch is exhausted, and answers a retried bump (KIP-360) again', async () => {
    const first = await tc.initProducerId('b', 60_000, undefined);
    const record = stateLog.records.at(-1)!.value!;
    // A coordinator that loads the id at the last epoch.
    tc.unload(0);
    tc.beginLoad(0);
    tc.completeLoad(0, new Map([['b', { ...record, producerEpoch: 32_766 }]]));
    const exhausted = await tc.initProducerId('b', 60_000, {
      producerId: first.producerId,
      producerEpoch: 32_766,
    });
    expect(exhausted.errorCode).toBe(ErrorCode.NONE);
    expect(exhausted.producerId).not.toBe(first.producerId);
    expect(exhausted.producerEpoch).toBe(0);
    const retried = await tc.initProducerId('b', 60_000, {
      producerId: first.producerId,
      producerEpoch: 32_766,
    });
    expect(retried).toEqual(exhausted);
    const stranger = await tc.initProducerId('b', 60_000, { producerId: 999n, producerEpoch: 4 });
    expect(stranger.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('completes a prepared abort it loads, and expires idle ids with a tombstone', async () => {
    const loaded = make();
    loaded.beginLoad(0);
    expect(loaded.ownership('c')).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    loaded.completeLoad(
      0,
      new Map([
        [
          'c',
          {
            producerId: 7n,
            producerEpoch: 2,
            timeoutMs: 60_000,
            state: 'PrepareAbort',
            partitions: new Map([['t', [0, 2]]]),
            lastUpdateMs: now,
            startMs: now,
          },
        ],
      ]),
    );
    await settle();
    expect(markers.sent.at(-1)).toEqual({
      marker: { producerId: 7n, producerEpoch: 2, coordinatorEpoch: 3, commit: false },
      partitions: [
        { topic: 't', partition: 0 },
        { topic: 't', partition: 2 },
      ],
    });
    expect(loaded.describe('c')?.state).toBe('CompleteAbort');
    now += 60_001;
    expect(await loaded.expireTransactionalIds()).toBe(1);
    expect(stateLog.records.at(-1)).toEqual({ id: 'c', value: null });
    expect(loaded.describe('c')).toBeUndefined();
  });
});
