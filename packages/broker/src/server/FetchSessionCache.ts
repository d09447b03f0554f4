import { ErrorCode } from '@fjord/protocol';

/** A partition as an incremental fetch session remembers it (KIP-227). */
export interface SessionPartition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  fetchOffset: number;
  maxBytes: number;
  currentLeaderEpoch: number;
  /** The epoch of the last batch the fetcher has (-1: unknown), to detect a diverged log. */
  lastFetchedEpoch: number;
  /** What the client was last told, to decide whether the partition must be sent again. */
  lastHighWatermark: number;
  lastLogStartOffset: number;
}

export interface FetchSession {
  readonly id: number;
  epoch: number;
  lastUsedMs: number;
  readonly partitions: Map<string, SessionPartition>;
}

export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;
const INVALID_SESSION_ID = 0;

export type SessionLookup =
  | { readonly kind: 'sessionless' }
  | { readonly kind: 'new'; readonly closed?: number }
  | { readonly kind: 'incremental'; readonly session: FetchSession }
  | { readonly kind: 'error'; readonly errorCode: number };

export function partitionKey(topicOrId: string, partition: number): string {
  return `${topicOrId}\u0000${partition}`;
}

/**
 * Incremental fetch sessions (KIP-227), as Kafka's FetchSessionCache: a full fetch with epoch 0
 * opens a session, later fetches send only what changed and get back only partitions with news.
 * Least recently used sessions are evicted when the cache is full (Kafka then answers with
 * session id 0, which makes clients fall back to full fetches).
 */
export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  private nextId = 1;

  constructor(private readonly maxSlots = 1000) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Classifies a request by its session id and epoch, closing sessions the client ends. */
  lookup(sessionId: number, epoch: number, now: number): SessionLookup {
    if (sessionId === INVALID_SESSION_ID) {
      return epoch === INITIAL_EPOCH
        ? { kind: 'new' }
        : epoch === FINAL_EPOCH
          ? { kind: 'sessionless' }
          : { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    }
    if (epoch === INITIAL_EPOCH) {
      this.sessions.delete(sessionId);
      return { kind: 'new', closed: sessionId };
    }
    if (epoch === FINAL_EPOCH) {
      this.sessions.delete(sessionId);
      return { kind: 'sessionless' };
    }
    const session = this.sessions.get(sessionId);
    if (!session) return { kind: 'error', errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    if (session.epoch !== epoch) return { kind: 'error', errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
    session.lastUsedMs = now;
    // Touch for LRU order.
    this.sessions.delete(sessionId);
    this.sessions.set(sessionId, session);
    return { kind: 'incremental', session };
  }

  /** Opens a session holding `partitions` (by key); returns it, or undefined without a slot. */
  create(partitions: Iterable<readonly [string, SessionPartition]>, now: number): FetchSession | undefined {
    if (this.maxSlots <= 0) return undefined;
    if (this.sessions.size >= this.maxSlots) {
      const oldest = this.sessions.keys().next().value!;
      this.sessions.delete(oldest);
    }
    const id = this.nextId;
    this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    const session: FetchSession = { id, epoch: 1, lastUsedMs: now, partitions: new Map(partitions) };
    this.sessions.set(id, session);
    return session;
  }

  remove(id: number): void {
    this.sessions.delete(id);
  }
}
