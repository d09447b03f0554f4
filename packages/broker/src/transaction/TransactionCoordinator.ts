import { ErrorCode } from '@fjord/protocol';
import type { Logger } from 'pino';
import type { TxnMarker } from '../replica/ControlRecords.js';
import type { TransactionLogValue, TransactionState } from './TransactionLogRecords.js';

/** Epochs stop short of Short.MAX_VALUE: past this a producer gets a new id (Kafka's rule). */
const MAX_EPOCH = 32_766;
const NO_PRODUCER_ID = -1n;

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Where the coordinator keeps its state: `__transaction_state`, written acks=all. */
export interface TransactionStateLog {
  partitionOf(transactionalId: string): number;
  /** The leader epoch of the `__transaction_state` partition: the coordinator epoch of markers. */
  coordinatorEpoch(partition: number): number;
  /** Resolves once the record (null: a tombstone) is on every in-sync replica; rejects otherwise. */
  append(transactionalId: string, value: TransactionLogValue | null): Promise<void>;
}

/** Kafka's TransactionMarkerChannelManager: writes markers to partition leaders, retrying until done. */
export interface TransactionMarkerSender {
  /**
   * Resolves true once every partition has the marker; false when it gave up: `stillCurrent`
   * turned false (this coordinator lost the id) or a leader answered TRANSACTION_COORDINATOR_FENCED.
   */
  send(
    marker: TxnMarker,
    partitions: readonly TopicPartition[],
    stillCurrent: () => boolean,
  ): Promise<boolean>;
}

export interface TransactionCoordinatorConfig {
  readonly maxTimeoutMs: number;
  readonly transactionalIdExpirationMs: number;
}

/** Kafka's TransactionMetadata: one transactional id's producer and transaction. */
interface TxnMetadata {
  readonly transactionalId: string;
  partitionOfLog: number;
  producerId: bigint;
  /** The id and epoch before the last bump (KIP-360: a retried InitProducerId is answered again). */
  lastProducerId: bigint;
  lastProducerEpoch: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TransactionState;
  partitions: Map<string, Set<number>>;
  startMs: number;
  lastUpdateMs: number;
  /** A state change is being written (or markers are being sent): others wait. */
  pending: boolean;
}

/** What DescribeTransactions and ListTransactions report of one transactional id. */
export interface TransactionDescription {
  readonly transactionalId: string;
  readonly state: TransactionState;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly timeoutMs: number;
  /** When the open transaction started; -1 when none is open. */
  readonly startMs: number;
  readonly partitions: readonly TopicPartition[];
}

function describeTxn(txn: TxnMetadata): TransactionDescription {
  const partitions: TopicPartition[] = [];
  for (const [topic, ps] of txn.partitions) for (const partition of ps) partitions.push({ topic, partition });
  return {
    transactionalId: txn.transactionalId,
    state: txn.state,
    producerId: txn.producerId,
    producerEpoch: txn.producerEpoch,
    timeoutMs: txn.timeoutMs,
    startMs: txn.state === 'Empty' || txn.state.startsWith('Complete') ? -1 : txn.startMs,
    partitions,
  };
}

export interface InitProducerIdResult {
  readonly errorCode: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

type Check =
  | { readonly ok: true; readonly txn: TxnMetadata }
  | { readonly ok: false; readonly error: number };

/**
 * Kafka's TransactionCoordinator and TransactionStateManager: per transactional id the producer
 * id and epoch (bumped by InitProducerId, which fences older instances), the transaction's
 * partitions and state. Every change is written to `__transaction_state` before it is
 * answered; commit and abort go Prepare* → markers on every partition → Complete*, and a
 * coordinator that loads a partition with a Prepare* state finishes what its predecessor
 * started. Transactions open longer than their timeout are aborted with an epoch bump.
 */
export class TransactionCoordinator {
  private readonly txns = new Map<string, TxnMetadata>();
  /** `__transaction_state` partitions this broker leads and has loaded. */
  private readonly owned = new Set<number>();
  private readonly loading = new Set<number>();

  constructor(
    private readonly config: TransactionCoordinatorConfig,
    private readonly stateLog: TransactionStateLog,
    private readonly markers: TransactionMarkerSender,
    private readonly allocateProducerId: () => Promise<bigint>,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** NONE when this broker coordinates the id; else why not (FindCoordinator sends clients here). */
  ownership(transactionalId: string): number {
    const partition = this.stateLog.partitionOf(transactionalId);
    if (this.loading.has(partition)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return this.owned.has(partition) ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR;
  }

  // ---- InitProducerId ------------------------------------------------------------------

  async initProducerId(
    transactionalId: string,
    timeoutMs: number,
    expected: { producerId: bigint; producerEpoch: number } | undefined,
  ): Promise<InitProducerIdResult> {
    const fail = (errorCode: number) => ({ errorCode, producerId: -1n, producerEpoch: -1 });
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST);
    const owner = this.ownership(transactionalId);
    if (owner !== ErrorCode.NONE) return fail(owner);
    if (timeoutMs <= 0 || timeoutMs > this.config.maxTimeoutMs)
      return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    let txn = this.txns.get(transactionalId);
    if (!txn) {
      const producerId = await this.allocateProducerId();
      // Re-read: another request may have created it while the id was allocated.
      txn = this.txns.get(transactionalId);
      if (!txn) {
        txn = {
          transactionalId,
          partitionOfLog: this.stateLog.partitionOf(transactionalId),
          producerId,
          lastProducerId: NO_PRODUCER_ID,
          lastProducerEpoch: -1,
          producerEpoch: -1,
          timeoutMs,
          state: 'Empty',
          partitions: new Map(),
          startMs: -1,
          lastUpdateMs: this.now(),
          pending: false,
        };
        this.txns.set(transactionalId, txn);
      }
    }
    if (txn.pending) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
    const known = expected && expected.producerId >= 0n ? expected : undefined;
    // KIP-360, as Kafka's prepareInitProducerIdTransit: a producer that names an id is fenced
    // unless the transactional id is new (no epoch yet), the id is its current one, or it is the
    // previous one whose epoch ran out (a retry of the rotation).
    if (
      known &&
      !(
        txn.producerEpoch === -1 ||
        known.producerId === txn.producerId ||
        (known.producerId === txn.lastProducerId && known.producerEpoch >= MAX_EPOCH)
      )
    )
      return fail(ErrorCode.PRODUCER_FENCED);
    switch (txn.state) {
      case 'PrepareCommit':
      case 'PrepareAbort':
      case 'PrepareEpochFence':
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      case 'Ongoing':
        // A new instance of the producer: the old one's transaction is aborted under a bumped
        // epoch (fencing it), and this caller retries until that is done (as Kafka).
        this.abortForFencing(txn);
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      case 'Dead':
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      default:
        break;
    }
    if (known && txn.producerEpoch !== -1 && known.producerEpoch !== txn.producerEpoch) {
      // The retry of a bump whose answer was lost gets the same answer again; any other epoch is stale.
      if (known.producerEpoch === txn.lastProducerEpoch)
        return { errorCode: ErrorCode.NONE, producerId: txn.producerId, producerEpoch: txn.producerEpoch };
      return fail(ErrorCode.PRODUCER_FENCED);
    }
    // Past the last epoch the producer gets a fresh id (Kafka's epoch exhaustion).
    const next =
      txn.producerEpoch >= MAX_EPOCH
        ? { producerId: await this.allocateProducerId(), producerEpoch: 0 }
        : { producerId: txn.producerId, producerEpoch: txn.producerEpoch + 1 };
    const value = this.valueOf(txn, {
      producerId: next.producerId,
      producerEpoch: next.producerEpoch,
      timeoutMs,
      state: 'Empty',
      partitions: new Map(),
      startMs: -1,
    });
    const error = await this.write(txn, value);
    if (error !== ErrorCode.NONE) return fail(error);
    txn.lastProducerId = txn.producerId;
    txn.lastProducerEpoch = txn.producerEpoch;
    this.apply(txn, value);
    return { errorCode: ErrorCode.NONE, producerId: txn.producerId, producerEpoch: txn.producerEpoch };
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn --------------------------------------------

  async addPartitions(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    partitions: readonly TopicPartition[],
  ): Promise<number> {
    const check = this.validate(transactionalId, producerId, producerEpoch);
    if (!check.ok) return check.error;
    const txn = check.txn;
    if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort')
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (txn.state === 'PrepareEpochFence' || txn.state === 'Dead') return ErrorCode.CONCURRENT_TRANSACTIONS;
    const missing = partitions.filter((tp) => !txn.partitions.get(tp.topic)?.has(tp.partition));
    if (missing.length === 0 && txn.state === 'Ongoing') return ErrorCode.NONE;
    const merged = new Map<string, Set<number>>();
    if (txn.state === 'Ongoing') for (const [t, ps] of txn.partitions) merged.set(t, new Set(ps));
    for (const tp of partitions) {
      let set = merged.get(tp.topic);
      if (!set) {
        set = new Set();
        merged.set(tp.topic, set);
      }
      set.add(tp.partition);
    }
    const value = this.valueOf(txn, {
      state: 'Ongoing',
      partitions: merged,
      startMs: txn.state === 'Ongoing' ? txn.startMs : this.now(),
    });
    const error = await this.write(txn, value);
    if (error === ErrorCode.NONE) this.apply(txn, value);
    return error;
  }

  // ---- EndTxn ----------------------------------------------------------------------------

  /**
   * Commit or abort: answered once Prepare* is in the log (as Kafka); markers and Complete*
   * follow in the background, during which the id answers CONCURRENT_TRANSACTIONS.
   */
  async endTransaction(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
    commit: boolean,
  ): Promise<number> {
    const check = this.validate(transactionalId, producerId, producerEpoch);
    if (!check.ok) return check.error;
    const txn = check.txn;
    switch (txn.state) {
      case 'Ongoing':
        break;
      case 'CompleteCommit':
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case 'CompleteAbort':
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case 'PrepareCommit':
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case 'PrepareAbort':
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      case 'PrepareEpochFence':
      case 'Dead':
        return ErrorCode.CONCURRENT_TRANSACTIONS;
      default:
        return ErrorCode.INVALID_TXN_STATE;
    }
    const prepare = this.valueOf(txn, { state: commit ? 'PrepareCommit' : 'PrepareAbort' });
    const error = await this.write(txn, prepare);
    if (error !== ErrorCode.NONE) return error;
    this.apply(txn, prepare);
    this.completeInBackground(txn);
    return ErrorCode.NONE;
  }

  /** Validation shared by AddPartitions, AddOffsets and EndTxn (Kafka's order of checks). */
  private validate(transactionalId: string, producerId: bigint, producerEpoch: number): Check {
    if (transactionalId === '') return { ok: false, error: ErrorCode.INVALID_REQUEST };
    const owner = this.ownership(transactionalId);
    if (owner !== ErrorCode.NONE) return { ok: false, error: owner };
    const txn = this.txns.get(transactionalId);
    if (!txn || txn.producerId !== producerId)
      return { ok: false, error: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
    if (txn.producerEpoch !== producerEpoch) return { ok: false, error: ErrorCode.PRODUCER_FENCED };
    if (txn.pending) return { ok: false, error: ErrorCode.CONCURRENT_TRANSACTIONS };
    return { ok: true, txn };
  }

  // ---- markers and completion ------------------------------------------------------------

  /**
   * Sends the markers of a Prepare* transaction, then writes Complete*. Markers are retried by
   * the sender until written; a coordinator that lost the partition meanwhile stops here (the
   * next one completes the transaction from the log).
   */
  private completeInBackground(txn: TxnMetadata): void {
    const commit = txn.state === 'PrepareCommit';
    const partitions: TopicPartition[] = [];
    for (const [topic, ps] of txn.partitions)
      for (const partition of ps) partitions.push({ topic, partition });
    const marker: TxnMarker = {
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
      coordinatorEpoch: this.stateLog.coordinatorEpoch(txn.partitionOfLog),
      commit,
    };
    txn.pending = true;
    void (async () => {
      try {
        const current = () =>
          this.owned.has(txn.partitionOfLog) && this.txns.get(txn.transactionalId) === txn;
        // A coordinator that lost the id stops here; the one that loaded it completes the transaction.
        if (!(await this.markers.send(marker, partitions, current)) || !current()) return;
        const complete = this.valueOf(txn, {
          state: commit ? 'CompleteCommit' : 'CompleteAbort',
          partitions: new Map(),
        });
        for (;;) {
          txn.pending = false;
          const error = await this.write(txn, complete);
          if (error === ErrorCode.NONE) {
            this.apply(txn, complete);
            return;
          }
          if (error === ErrorCode.NOT_COORDINATOR) return;
          txn.pending = true;
          await new Promise((r) => setTimeout(r, 200));
          if (!this.owned.has(txn.partitionOfLog)) return;
        }
      } catch (err) {
        this.log.warn({ err, transactionalId: txn.transactionalId }, 'transaction markers not completed');
      } finally {
        if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort') txn.pending = false;
      }
    })();
  }

  /**
   * Aborts an open transaction under a bumped epoch: the producer instance that opened it is
   * fenced (its next request gets PRODUCER_FENCED / INVALID_PRODUCER_EPOCH). Used when a new
   * instance initialises the same transactional id and when the transaction timed out.
   */
  private abortForFencing(txn: TxnMetadata): void {
    if (txn.pending) return;
    const bumpedEpoch = txn.producerEpoch < MAX_EPOCH ? txn.producerEpoch + 1 : txn.producerEpoch;
    const prepare = this.valueOf(txn, { producerEpoch: bumpedEpoch, state: 'PrepareAbort' });
    void (async () => {
      const error = await this.write(txn, prepare);
      if (error !== ErrorCode.NONE) {
        this.log.warn({ transactionalId: txn.transactionalId, error }, 'could not abort transaction');
        return;
      }
      this.apply(txn, prepare);
      this.completeInBackground(txn);
    })();
  }

  /** Aborts every transaction open longer than its timeout (the periodic cleanup task). */
  abortTimedOut(): number {
    const now = this.now();
    let n = 0;
    for (const txn of this.txns.values()) {
      if (txn.state !== 'Ongoing' || txn.pending || !this.owned.has(txn.partitionOfLog)) continue;
      if (now - txn.startMs <= txn.timeoutMs) continue;
      this.log.info({ transactionalId: txn.transactionalId }, 'aborting timed-out transaction');
      this.abortForFencing(txn);
      n++;
    }
    return n;
  }

  /**
   * Forgets transactional ids idle past transactional.id.expiration.ms with no transaction open:
   * a tombstone in `__transaction_state` (so compaction drops the id there too), as Kafka does.
   */
  async expireTransactionalIds(): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const txn of [...this.txns.values()]) {
      if (txn.pending || !this.owned.has(txn.partitionOfLog)) continue;
      if (txn.state !== 'Empty' && txn.state !== 'CompleteCommit' && txn.state !== 'CompleteAbort') continue;
      if (now - txn.lastUpdateMs <= this.config.transactionalIdExpirationMs) continue;
      txn.pending = true;
      try {
        await this.stateLog.append(txn.transactionalId, null);
        this.txns.delete(txn.transactionalId);
        n++;
      } catch (err) {
        this.log.warn({ err, transactionalId: txn.transactionalId }, 'transactional id not expired');
      } finally {
        txn.pending = false;
      }
    }
    return n;
  }

  // ---- loading and unloading -------------------------------------------------------------

  /** This broker is about to load a `__transaction_state` partition: its ids answer LOAD_IN_PROGRESS. */
  beginLoad(partition: number): void {
    this.loading.add(partition);
  }

  /**
   * The partition's state as replayed from the log (last value per id; null for a tombstone).
   * Prepare* transactions are completed: their markers may not all have been written.
   */
  completeLoad(partition: number, values: ReadonlyMap<string, TransactionLogValue | null>): void {
    this.loading.delete(partition);
    this.owned.add(partition);
    for (const [transactionalId, value] of values) {
      if (value === null || value.state === 'Dead') {
        this.txns.delete(transactionalId);
        continue;
      }
      const txn: TxnMetadata = {
        transactionalId,
        partitionOfLog: partition,
        producerId: value.producerId,
        lastProducerId: NO_PRODUCER_ID,
        lastProducerEpoch: -1,
        producerEpoch: value.producerEpoch,
        timeoutMs: value.timeoutMs,
        state: value.state,
        partitions: new Map([...value.partitions].map(([t, ps]) => [t, new Set(ps)])),
        startMs: value.startMs,
        lastUpdateMs: value.lastUpdateMs,
        pending: false,
      };
      this.txns.set(transactionalId, txn);
      if (txn.state === 'PrepareCommit' || txn.state === 'PrepareAbort') this.completeInBackground(txn);
      else if (txn.state === 'PrepareEpochFence') {
        txn.state = 'Ongoing';
        this.abortForFencing(txn);
      }
    }
  }

  /** Leadership of the partition moved away: its ids are no longer ours. */
  unload(partition: number): void {
    this.loading.delete(partition);
    this.owned.delete(partition);
    for (const [id, txn] of this.txns) if (txn.partitionOfLog === partition) this.txns.delete(id);
  }

  /** State of one id this broker coordinates (DescribeTransactions). */
  describe(transactionalId: string): TransactionDescription | undefined {
    const txn = this.txns.get(transactionalId);
    return txn && this.owned.has(txn.partitionOfLog) ? describeTxn(txn) : undefined;
  }

  /** Every id this broker coordinates (ListTransactions). */
  *list(): Generator<TransactionDescription> {
    for (const txn of this.txns.values()) if (this.owned.has(txn.partitionOfLog)) yield describeTxn(txn);
  }

  // ---- state writes ----------------------------------------------------------------------

  private valueOf(
    txn: TxnMetadata,
    change: Omit<Partial<TransactionLogValue>, 'partitions'> & {
      partitions?: ReadonlyMap<string, Iterable<number>>;
    },
  ): TransactionLogValue {
    const partitions = new Map<string, number[]>();
    for (const [t, ps] of change.partitions ?? txn.partitions) partitions.set(t, [...ps]);
    return {
      producerId: change.producerId ?? txn.producerId,
      producerEpoch: change.producerEpoch ?? txn.producerEpoch,
      timeoutMs: change.timeoutMs ?? txn.timeoutMs,
      state: change.state ?? txn.state,
      partitions,
      lastUpdateMs: this.now(),
      startMs: change.startMs ?? txn.startMs,
    };
  }

  /** Writes a state change with the id marked pending; NONE or the error for the client. */
  private async write(txn: TxnMetadata, value: TransactionLogValue): Promise<number> {
    if (txn.pending) return ErrorCode.CONCURRENT_TRANSACTIONS;
    txn.pending = true;
    try {
      await this.stateLog.append(txn.transactionalId, value);
      return this.owned.has(txn.partitionOfLog) ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR;
    } catch (err) {
      this.log.warn({ err, transactionalId: txn.transactionalId }, 'transaction state not written');
      return this.owned.has(txn.partitionOfLog)
        ? ErrorCode.COORDINATOR_NOT_AVAILABLE
        : ErrorCode.NOT_COORDINATOR;
    } finally {
      txn.pending = false;
    }
  }

  private apply(txn: TxnMetadata, value: TransactionLogValue): void {
    txn.producerId = value.producerId;
    txn.producerEpoch = value.producerEpoch;
    txn.timeoutMs = value.timeoutMs;
    txn.state = value.state;
    txn.partitions = new Map([...value.partitions].map(([t, ps]) => [t, new Set(ps)]));
    txn.startMs = value.startMs;
    txn.lastUpdateMs = value.lastUpdateMs;
  }
}
