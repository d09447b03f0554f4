import type { MetadataImage } from '../image/MetadataImage.js';
import type { MetadataPublisher } from '../image/MetadataPublisher.js';
import type { MetadataRecord } from '../records.js';
import {
  type AlterPartitionItem,
  type AlterPartitionResult,
  planAlterPartition,
} from './AlterPartitionPlanner.js';
import {
  type BrokerRegistrationRequest,
  electLeaderless,
  planControlledShutdown,
  planFenceBroker,
  planLogDirsOffline,
  planRegisterBroker,
  planUnfenceBroker,
  planUnregisterBroker,
  type RegistrationPlan,
  type UncleanPolicy,
} from './BrokerLifecyclePlanner.js';
import {
  type DirectoryAssignment,
  type DirectoryAssignmentError,
  planAssignReplicasToDirs,
} from './DirectoryAssignmentPlanner.js';
import {
  type ElectionResult,
  type ElectionType,
  planElectLeaders,
  planLeaderRebalance,
} from './LeaderElectionPlanner.js';
import type { MetadataAppendQueue } from './MetadataAppendQueue.js';
import { planReassignments, type ReassignmentItem, type ReassignmentResult } from './ReassignmentPlanner.js';

export interface QuorumControllerSettings {
  readonly clusterId: string;
  /** broker.session.timeout.ms: a broker that has not heartbeated for this long is fenced. */
  readonly sessionTimeoutMs: number;
  readonly maxReplicationFactor: number;
  /** leader.imbalance.per.broker.percentage */
  readonly leaderImbalancePercent: number;
  /** Whether a topic allows unclean leader election (topic config over the broker default). */
  readonly uncleanAllowed: (image: MetadataImage, topic: string) => boolean;
}

export interface HeartbeatRequest {
  readonly brokerId: number;
  readonly brokerEpoch: number;
  readonly currentMetadataOffset: number;
  readonly wantFence: boolean;
  readonly wantShutDown: boolean;
  readonly offlineLogDirs: readonly string[];
}

export type HeartbeatResult =
  | { readonly ok: false; readonly error: 'STALE_BROKER_EPOCH' | 'BROKER_ID_NOT_REGISTERED' }
  | {
      readonly ok: true;
      readonly isCaughtUp: boolean;
      readonly isFenced: boolean;
      readonly shouldShutDown: boolean;
    };

/** Producer ids handed to a broker per AllocateProducerIds (KIP-730). */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

/**
 * The active controller's logic (KRaft's QuorumController's lifecycle and replication parts):
 * broker registration and heartbeats, fencing of brokers whose session lapsed, unfencing of
 * caught-up ones, controlled shutdown, ISR changes from leaders, producer id blocks, leader
 * elections and reassignments. Every decision is a pure planner's; this class keeps the
 * in-memory broker sessions and serialises changes through the MetadataAppendQueue. Time comes
 * in as arguments, so it runs the same under tests' virtual clocks.
 */
export class QuorumController {
  /** brokerId → when its session lapses, for the epoch it heartbeats with. */
  private readonly sessions = new Map<number, { readonly brokerEpoch: number; deadline: number }>();
  /** Metadata offset a shutting-down broker must reach before it may stop. */
  private readonly shutdownOffsets = new Map<number, number>();
  /** The metadata offset each broker last reported having applied. */
  private readonly brokerOffsets = new Map<number, number>();
  private readonly propagationWaiters = new Set<() => void>();

  constructor(
    private readonly quorum: MetadataAppendQueue,
    private readonly publisher: MetadataPublisher,
    private readonly settings: QuorumControllerSettings,
  ) {}

  get image(): MetadataImage {
    return this.publisher.image;
  }

  /**
   * Becoming the active controller: every unfenced broker gets a full session from now (its
   * heartbeats went to the old controller), except `suspects`, which get `suspectGraceMs`
   * (the previous controller whose lease lapsed: alive, it heartbeats here within that time).
   */
  activate(now: number, suspects: readonly number[] = [], suspectGraceMs = 0): void {
    this.sessions.clear();
    this.shutdownOffsets.clear();
    this.brokerOffsets.clear();
    for (const b of this.image.brokers.values()) {
      if (b.fenced) continue;
      const grace = suspects.includes(b.brokerId) ? suspectGraceMs : this.settings.sessionTimeoutMs;
      this.sessions.set(b.brokerId, { brokerEpoch: b.brokerEpoch, deadline: now + grace });
    }
  }

  async registerBroker(req: BrokerRegistrationRequest, now: number): Promise<RegistrationPlan> {
    const result = await this.quorum.submit((image) =>
      planRegisterBroker(image, this.settings.clusterId, req, (id) => this.sessionAlive(id, now)),
    );
    if (result.ok) {
      this.sessions.set(req.brokerId, {
        brokerEpoch: result.brokerEpoch,
        deadline: now + this.settings.sessionTimeoutMs,
      });
      this.shutdownOffsets.delete(req.brokerId);
    }
    return result;
  }

  async heartbeat(req: HeartbeatRequest, now: number): Promise<HeartbeatResult> {
    const reg = this.image.brokers.get(req.brokerId);
    if (!reg) return { ok: false, error: 'BROKER_ID_NOT_REGISTERED' };
    if (reg.brokerEpoch !== req.brokerEpoch) return { ok: false, error: 'STALE_BROKER_EPOCH' };
    this.sessions.set(req.brokerId, {
      brokerEpoch: req.brokerEpoch,
      deadline: now + this.settings.sessionTimeoutMs,
    });
    // What waitForPropagation waits on: the image offset each broker last reported.
    this.brokerOffsets.set(req.brokerId, req.currentMetadataOffset);
    for (const check of [...this.propagationWaiters]) check();
    const unclean = this.uncleanPolicy();

    if (req.offlineLogDirs.some((d) => reg.logDirs.includes(d)))
      await this.submit((image) =>
        planLogDirsOffline(image, req.brokerId, req.brokerEpoch, req.offlineLogDirs, unclean(image)),
      );

    const isCaughtUp = req.currentMetadataOffset >= reg.brokerEpoch;
    if (req.wantShutDown) {
      if (!this.image.brokers.get(req.brokerId)?.inControlledShutdown) {
        await this.submit((image) => planControlledShutdown(image, req.brokerId, req.brokerEpoch));
        this.shutdownOffsets.set(req.brokerId, this.image.offset);
      }
      const ready =
        req.currentMetadataOffset >= (this.shutdownOffsets.get(req.brokerId) ?? this.image.offset) &&
        !this.leadsAnything(req.brokerId);
      if (ready) {
        // It stops now: fence it at once rather than let clients find it for a session timeout.
        await this.submit((image) => planFenceBroker(image, req.brokerId, unclean(image)));
        this.sessions.delete(req.brokerId);
      }
      return { ok: true, isCaughtUp, isFenced: this.isFenced(req.brokerId), shouldShutDown: ready };
    }
    if (reg.fenced && !req.wantFence && isCaughtUp && !reg.inControlledShutdown)
      await this.submit((image) => planUnfenceBroker(image, req.brokerId, req.brokerEpoch, unclean(image)));
    return { ok: true, isCaughtUp, isFenced: this.isFenced(req.brokerId), shouldShutDown: false };
  }

  /**
   * Resolves once every live broker reported (by heartbeat) an image at `offset` or later, so an
   * admin change is visible on whichever broker a client asks next; false after `timeoutMs`.
   */
  waitForPropagation(offset: number, timeoutMs: number): Promise<boolean> {
    const done = () =>
      this.image
        .liveBrokers()
        .every((b) => b.inControlledShutdown || (this.brokerOffsets.get(b.brokerId) ?? -1) >= offset);
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        finish(true);
      };
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.propagationWaiters.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.propagationWaiters.add(check);
    });
  }

  /** Fences every broker whose session lapsed by `now`. Returns their ids. */
  async fenceExpired(now: number): Promise<number[]> {
    const expired: number[] = [];
    for (const [id, s] of this.sessions) {
      if (s.deadline > now) continue;
      this.sessions.delete(id);
      expired.push(id);
    }
    for (const id of expired) await this.fence(id);
    return expired;
  }

  /**
   * Fences a broker known to be gone (its process no longer accepts connections) — only the
   * incarnation with `brokerEpoch` when given, so a restarted one is left alone.
   */
  async fence(brokerId: number, brokerEpoch?: number): Promise<void> {
    const unclean = this.uncleanPolicy();
    await this.submit((image) => {
      const reg = image.brokers.get(brokerId);
      if (brokerEpoch !== undefined && reg?.brokerEpoch !== brokerEpoch) return [];
      this.sessions.delete(brokerId);
      return planFenceBroker(image, brokerId, unclean(image));
    });
  }

  /** UnregisterBroker: forgets a broker (fencing it first). */
  async unregisterBroker(brokerId: number): Promise<'ok' | 'BROKER_ID_NOT_REGISTERED'> {
    const unclean = this.uncleanPolicy();
    const result = await this.quorum.submit((image) => planUnregisterBroker(image, brokerId, unclean(image)));
    if (!result.ok) return result.error;
    this.sessions.delete(brokerId);
    this.brokerOffsets.delete(brokerId);
    return 'ok';
  }

  async alterPartition(
    brokerId: number,
    brokerEpoch: number,
    items: readonly AlterPartitionItem[],
  ): Promise<AlterPartitionResult[]> {
    return (
      await this.quorum.submit((image) => ({
        ok: true as const,
        ...planAlterPartition(image, brokerId, brokerEpoch, items),
      }))
    ).results;
  }

  async assignReplicasToDirs(
    brokerId: number,
    brokerEpoch: number,
    assignments: readonly DirectoryAssignment[],
  ): Promise<(DirectoryAssignmentError | 'STALE_BROKER_EPOCH' | undefined)[]> {
    if (this.image.brokers.get(brokerId)?.brokerEpoch !== brokerEpoch)
      return assignments.map(() => 'STALE_BROKER_EPOCH');
    return (
      await this.quorum.submit((image) => ({
        ok: true as const,
        ...planAssignReplicasToDirs(image, brokerId, assignments),
      }))
    ).results;
  }

  async allocateProducerIds(
    brokerId: number,
    brokerEpoch: number,
  ): Promise<{ ok: true; start: number; length: number } | { ok: false; error: 'STALE_BROKER_EPOCH' }> {
    const outcome = await this.quorum.submit((image) => {
      const reg = image.brokers.get(brokerId);
      if (!reg || (brokerEpoch !== -1 && reg.brokerEpoch !== brokerEpoch)) return { ok: false as const };
      const start = image.nextProducerId;
      return {
        ok: true as const,
        start,
        records: [
          { type: 'ProducerIds', brokerId, brokerEpoch, nextProducerId: start + PRODUCER_ID_BLOCK_SIZE },
        ],
      };
    });
    return outcome.ok
      ? { ok: true, start: outcome.start, length: PRODUCER_ID_BLOCK_SIZE }
      : { ok: false, error: 'STALE_BROKER_EPOCH' };
  }

  async electLeaders(
    type: ElectionType,
    partitions: readonly { readonly topic: string; readonly partition: number }[],
  ): Promise<ElectionResult[]> {
    return (
      await this.quorum.submit((image) => ({
        ok: true as const,
        ...planElectLeaders(image, type, partitions),
      }))
    ).results;
  }

  async alterReassignments(items: readonly ReassignmentItem[]): Promise<ReassignmentResult[]> {
    return (
      await this.quorum.submit((image) => ({
        ok: true as const,
        ...planReassignments(image, items, this.settings.maxReplicationFactor),
      }))
    ).results;
  }

  /** auto.leader.rebalance.enable's periodic check. */
  async rebalanceLeaders(): Promise<void> {
    await this.submit((image) => planLeaderRebalance(image, this.settings.leaderImbalancePercent));
  }

  /** Elects leaders wherever one became possible (e.g. after a topic enabled unclean election). */
  async electLeaderless(): Promise<void> {
    const unclean = this.uncleanPolicy();
    await this.submit((image) => electLeaderless(image, unclean(image)));
  }

  private submit(plan: (image: MetadataImage) => MetadataRecord[]) {
    return this.quorum.submit((image) => ({ ok: true as const, records: plan(image) }));
  }

  private uncleanPolicy(): (image: MetadataImage) => UncleanPolicy {
    return (image) => (topic) => this.settings.uncleanAllowed(image, topic);
  }

  private sessionAlive(brokerId: number, now: number): boolean {
    const s = this.sessions.get(brokerId);
    return s !== undefined && s.deadline > now;
  }

  private isFenced(brokerId: number): boolean {
    return this.image.brokers.get(brokerId)?.fenced ?? true;
  }

  private leadsAnything(brokerId: number): boolean {
    for (const t of this.image.topicsById.values())
      for (const p of t.partitions) if (p?.leader === brokerId) return true;
    return false;
  }
}
