import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@fjord/protocol';
import type { Scheduler } from '../storage/Scheduler.js';
import type { GroupMemberMetadata, GroupMetadataValue, OffsetCommitValue } from './ConsumerOffsetsRecords.js';

/**
 * Kafka's classic consumer-group protocol (JoinGroup / SyncGroup / Heartbeat / LeaveGroup,
 * offsets), modelled on the pre-KIP-848 GroupCoordinator. Time comes from an injected
 * scheduler so the state machine is deterministic under test. Persistence of offsets and
 * group metadata goes through `GroupPersistence`, which must succeed before a commit is
 * acknowledged. Like Kafka, a group's members are stored when a rebalance completes (and when
 * the group empties or a static member is replaced), so a coordinator that takes the group
 * over loads it Stable with its members: they keep heartbeating and committing, no rebalance.
 */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** What the coordinator needs of the broker's Scheduler: the time and one-shot timeouts. */
export type GroupTimers = Pick<Scheduler, 'now' | 'after'>;

export interface GroupPersistence {
  storeOffsets(group: string, offsets: readonly OffsetEntry[]): Promise<void>;
  /**
   * TxnOffsetCommit: the offsets written as a transactional batch of the producer, which its
   * transaction's marker commits or aborts. Rejects with ProducerFencedError for an old epoch.
   */
  storeTransactionalOffsets(
    group: string,
    producer: { readonly producerId: bigint; readonly producerEpoch: number },
    offsets: readonly OffsetEntry[],
  ): Promise<void>;
  storeGroup(group: string, value: GroupMetadataValue | null): Promise<void>;
}

export interface OffsetEntry {
  readonly topic: string;
  readonly partition: number;
  /** null deletes the committed offset (OffsetDelete, expiry). */
  readonly value: OffsetCommitValue | null;
}

export interface GroupConfig {
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  readonly initialRebalanceDelayMs: number;
  readonly maxGroupSize: number;
  readonly offsetMetadataMaxBytes: number;
}

export interface Protocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface JoinRequest {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly Protocol[];
  /** JoinGroup v4+: a new member must first learn its id (KIP-394). */
  readonly requireKnownMemberId: boolean;
}

export interface JoinResult {
  readonly errorCode: number;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly leader: string;
  readonly memberId: string;
  readonly skipAssignment?: boolean;
  readonly members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncRequest {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: readonly { memberId: string; assignment: Buffer }[];
}

export interface SyncResult {
  readonly errorCode: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: Buffer;
}

interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: readonly Protocol[];
  assignment: Buffer;
  awaitingJoin?: (r: JoinResult) => void;
  awaitingSync?: (r: SyncResult) => void;
  cancelSession?: () => void;
}

interface CommittedOffset extends OffsetCommitValue {}

class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, valid until their session timeout. */
  readonly pendingMembers = new Map<string, () => void>();
  readonly offsets = new Map<string, { topic: string; partition: number; value: CommittedOffset }>();
  cancelRebalance?: () => void;
  initialDelayUntil = 0;
  emptySince: number;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.emptySince = now;
  }

  allMembersJoined(): boolean {
    for (const m of this.members.values()) if (!m.awaitingJoin) return false;
    return this.pendingMembers.size === 0;
  }

  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }
}

const EMPTY = Buffer.alloc(0);

/** One partition's offset in an OffsetCommit or TxnOffsetCommit. */
export interface OffsetCommitEntry {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
}

/** The producer's epoch is older than one its transaction markers carried. */
export class ProducerFencedError extends Error {}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  /** Offsets of open transactions, by producer id then group (Kafka's pendingTransactionalOffsetCommits). */
  private readonly pendingTxnOffsets = new Map<bigint, Map<string, Map<string, OffsetEntry>>>();

  constructor(
    private readonly config: GroupConfig,
    private readonly scheduler: GroupTimers,
    private readonly persistence: GroupPersistence,
  ) {}

  // ------------------------------------------------------------------ membership

  join(req: JoinRequest): Promise<JoinResult> {
    const fail = (errorCode: number, memberId = req.memberId): JoinResult => ({
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      memberId,
      members: [],
    });
    if (req.groupId === '') return Promise.resolve(fail(ErrorCode.INVALID_GROUP_ID));
    if (
      req.sessionTimeoutMs < this.config.minSessionTimeoutMs ||
      req.sessionTimeoutMs > this.config.maxSessionTimeoutMs
    )
      return Promise.resolve(fail(ErrorCode.INVALID_SESSION_TIMEOUT));
    let group = this.groups.get(req.groupId);
    if (!group) {
      if (req.memberId !== '') return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID));
      group = new Group(req.groupId, this.scheduler.now());
      this.groups.set(req.groupId, group);
    }
    if (group.state === 'Dead') return Promise.resolve(fail(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!this.supportsProtocols(group, req.protocolType, req.protocols))
      return Promise.resolve(fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));

    if (req.memberId === '') return this.joinUnknownMember(group, req, fail);
    return this.joinKnownMember(group, req, fail);
  }

  private joinUnknownMember(
    group: Group,
    req: JoinRequest,
    fail: (c: number, id?: string) => JoinResult,
  ): Promise<JoinResult> {
    const newId = `${req.clientId || 'member'}-${randomUUID()}`;
    if (req.groupInstanceId !== null) {
      const oldId = group.staticMembers.get(req.groupInstanceId);
      if (oldId !== undefined && group.members.has(oldId))
        return this.replaceStaticMember(group, oldId, newId, req);
    } else if (req.requireKnownMemberId) {
      // KIP-394: hand out an id first; the member must rejoin with it within its session timeout.
      const cancel = this.scheduler.after(req.sessionTimeoutMs, () => {
        group.pendingMembers.delete(newId);
        if (group.state === 'PreparingRebalance' && group.allMembersJoined()) this.tryCompleteJoin(group);
      });
      group.pendingMembers.set(newId, cancel);
      return Promise.resolve(fail(ErrorCode.MEMBER_ID_REQUIRED, newId));
    }
    if (group.members.size >= this.config.maxGroupSize)
      return Promise.resolve(fail(ErrorCode.GROUP_MAX_SIZE_REACHED));
    return this.addMemberAndRebalance(group, newId, req);
  }

  private joinKnownMember(
    group: Group,
    req: JoinRequest,
    fail: (c: number, id?: string) => JoinResult,
  ): Promise<JoinResult> {
    const pending = group.pendingMembers.get(req.memberId);
    if (pending) {
      pending();
      group.pendingMembers.delete(req.memberId);
      if (group.members.size >= this.config.maxGroupSize)
        return Promise.resolve(fail(ErrorCode.GROUP_MAX_SIZE_REACHED));
      return this.addMemberAndRebalance(group, req.memberId, req);
    }
    if (staticMemberFenced(group, req.groupInstanceId, req.memberId))
      return Promise.resolve(fail(ErrorCode.FENCED_INSTANCE_ID));
    const member = group.members.get(req.memberId);
    if (!member) return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID));
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndAwaitJoin(group, member, req);
      case 'CompletingRebalance':
      case 'Stable': {
        const unchanged = sameProtocols(member.protocols, req.protocols);
        if (unchanged && (group.state === 'CompletingRebalance' || member.memberId !== group.leaderId)) {
          this.touch(group, member);
          return Promise.resolve(this.joinResultFor(group, member.memberId));
        }
        const result = this.updateMemberAndAwaitJoin(group, member, req);
        this.prepareRebalance(group);
        return result;
      }
      default:
        return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private replaceStaticMember(
    group: Group,
    oldId: string,
    newId: string,
    req: JoinRequest,
  ): Promise<JoinResult> {
    const old = group.members.get(oldId)!;
    old.cancelSession?.();
    // The old instance, if still around, learns it was fenced.
    old.awaitingJoin?.({
      ...this.joinResultFor(group, oldId),
      errorCode: ErrorCode.FENCED_INSTANCE_ID,
      members: [],
    });
    old.awaitingSync?.({
      errorCode: ErrorCode.FENCED_INSTANCE_ID,
      protocolType: null,
      protocolName: null,
      assignment: EMPTY,
    });
    group.members.delete(oldId);
    const leaderBefore = group.leaderId;
    const member: Member = {
      ...old,
      memberId: newId,
      awaitingJoin: undefined,
      awaitingSync: undefined,
      cancelSession: undefined,
    };
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    group.members.set(newId, member);
    group.staticMembers.set(req.groupInstanceId!, newId);
    if (group.leaderId === oldId) group.leaderId = newId;
    member.protocols = req.protocols;
    if (
      group.state === 'Stable' &&
      sameSubscription(group.protocolName, old.protocols, req.protocols) &&
      this.selectProtocol(group) === group.protocolName
    ) {
      // KIP-345: a static member coming back with the same subscription needs no rebalance
      // (compared for the group's protocol only: a member loaded from __consumer_offsets knows
      // no other). The new member id is stored first so another coordinator would know it.
      this.touch(group, member);
      // As Kafka: the answer names the leader as it was, so a returning leader does not see itself
      // as leader and compute an assignment a Stable group would never hand out; it syncs and
      // gets its old assignment back.
      return this.persistGroup(group).then(
        () => ({ ...this.joinResultFor(group, newId), leader: leaderBefore ?? '', skipAssignment: false }),
        () => {
          this.revertStaticMember(group, member, old);
          return {
            ...this.joinResultFor(group, ''),
            errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
            members: [],
            skipAssignment: false,
          };
        },
      );
    }
    const result = this.awaitJoin(group, member);
    if (group.state !== 'PreparingRebalance') this.prepareRebalance(group);
    else this.maybeCompleteJoin(group);
    return result;
  }

  /** The replacement could not be stored (Kafka's revert): the old member id stays valid. */
  private revertStaticMember(group: Group, replacement: Member, old: Member): void {
    if (group.members.get(replacement.memberId) !== replacement) return; // moved on meanwhile
    replacement.cancelSession?.();
    group.members.delete(replacement.memberId);
    const restored: Member = {
      ...old,
      awaitingJoin: undefined,
      awaitingSync: undefined,
      cancelSession: undefined,
    };
    group.members.set(old.memberId, restored);
    group.staticMembers.set(old.groupInstanceId!, old.memberId);
    if (group.leaderId === replacement.memberId) group.leaderId = old.memberId;
    this.touch(group, restored);
  }

  private addMemberAndRebalance(group: Group, memberId: string, req: JoinRequest): Promise<JoinResult> {
    const member: Member = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocols: req.protocols,
      assignment: EMPTY,
    };
    if (group.members.size === 0) group.protocolType = req.protocolType;
    group.members.set(memberId, member);
    if (req.groupInstanceId !== null) group.staticMembers.set(req.groupInstanceId, memberId);
    const result = this.awaitJoin(group, member);
    if (group.state === 'PreparingRebalance') {
      // A new member during the initial delay extends it (Kafka's InitialDelayedJoin).
      this.maybeCompleteJoin(group);
    } else this.prepareRebalance(group);
    return result;
  }

  private updateMemberAndAwaitJoin(group: Group, member: Member, req: JoinRequest): Promise<JoinResult> {
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    const result = this.awaitJoin(group, member);
    this.maybeCompleteJoin(group);
    return result;
  }

  private awaitJoin(group: Group, member: Member): Promise<JoinResult> {
    member.cancelSession?.();
    member.cancelSession = undefined;
    return new Promise((resolve) => {
      const previous = member.awaitingJoin;
      // A duplicate JoinGroup replaces the earlier one, which is answered as superseded.
      previous?.({
        ...this.joinResultFor(group, member.memberId),
        errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
        members: [],
      });
      member.awaitingJoin = resolve;
    });
  }

  private prepareRebalance(group: Group): void {
    group.cancelRebalance?.();
    for (const m of group.members.values()) {
      if (m.awaitingSync) {
        m.awaitingSync({
          errorCode: ErrorCode.REBALANCE_IN_PROGRESS,
          protocolType: null,
          protocolName: null,
          assignment: EMPTY,
        });
        m.awaitingSync = undefined;
      }
    }
    const wasEmpty = group.state === 'Empty';
    group.state = 'PreparingRebalance';
    const now = this.scheduler.now();
    if (wasEmpty && this.config.initialRebalanceDelayMs > 0) {
      group.initialDelayUntil =
        now + Math.min(this.config.initialRebalanceDelayMs, group.rebalanceTimeoutMs());
      group.cancelRebalance = this.scheduler.after(group.initialDelayUntil - now, () =>
        this.onInitialDelay(group),
      );
    } else {
      group.initialDelayUntil = 0;
      group.cancelRebalance = this.scheduler.after(group.rebalanceTimeoutMs(), () =>
        this.completeJoin(group),
      );
      this.maybeCompleteJoin(group);
    }
  }

  private onInitialDelay(group: Group): void {
    group.initialDelayUntil = 0;
    if (group.allMembersJoined()) this.completeJoin(group);
    else
      group.cancelRebalance = this.scheduler.after(group.rebalanceTimeoutMs(), () =>
        this.completeJoin(group),
      );
  }

  private maybeCompleteJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return;
    if (group.initialDelayUntil > this.scheduler.now()) return;
    if (group.allMembersJoined()) this.tryCompleteJoin(group);
  }

  private tryCompleteJoin(group: Group): void {
    group.cancelRebalance?.();
    group.cancelRebalance = undefined;
    this.completeJoin(group);
  }

  /** Ends the join phase: drop members that did not rejoin, pick a protocol and leader. */
  private completeJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return;
    group.cancelRebalance = undefined;
    for (const m of [...group.members.values()]) if (!m.awaitingJoin) this.removeMember(group, m);
    group.generationId++;
    if (group.members.size === 0) {
      group.state = 'Empty';
      group.protocolName = null;
      group.leaderId = null;
      group.emptySince = this.scheduler.now();
      // Best effort: the record only carries the generation forward across restarts; members
      // rejoin regardless, so a failed write (e.g. during shutdown) must not surface anywhere.
      this.persistGroup(group).catch(() => {});
      return;
    }
    group.protocolName = this.selectProtocol(group);
    if (!group.leaderId || !group.members.has(group.leaderId))
      group.leaderId = group.members.keys().next().value!;
    group.state = 'CompletingRebalance';
    for (const m of group.members.values()) {
      const resolve = m.awaitingJoin!;
      m.awaitingJoin = undefined;
      this.touch(group, m);
      resolve(this.joinResultFor(group, m.memberId));
    }
  }

  private joinResultFor(group: Group, memberId: string): JoinResult {
    const isLeader = memberId === group.leaderId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY,
          }))
        : [],
    };
  }

  /** Kafka's vote: candidates every member supports; each member votes for its first candidate. */
  private selectProtocol(group: Group): string {
    const members = [...group.members.values()];
    const candidates = members[0]!.protocols
      .map((p) => p.name)
      .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
    const votes = new Map<string, number>();
    for (const m of members) {
      const choice = m.protocols.find((p) => candidates.includes(p.name))!.name;
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best = candidates[0]!;
    for (const c of candidates) if ((votes.get(c) ?? 0) > (votes.get(best) ?? 0)) best = c;
    return best;
  }

  private supportsProtocols(group: Group, protocolType: string, protocols: readonly Protocol[]): boolean {
    if (protocols.length === 0 || protocolType === '') return false;
    if (group.members.size === 0) return true;
    if (group.protocolType !== protocolType) return false;
    return protocols.some((p) =>
      [...group.members.values()].every((m) => m.protocols.some((q) => q.name === p.name)),
    );
  }

  sync(req: SyncRequest): Promise<SyncResult> {
    const fail = (errorCode: number): SyncResult => ({
      errorCode,
      protocolType: null,
      protocolName: null,
      assignment: EMPTY,
    });
    const group = this.groups.get(req.groupId);
    if (!group) return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID));
    if (staticMemberFenced(group, req.groupInstanceId, req.memberId))
      return Promise.resolve(fail(ErrorCode.FENCED_INSTANCE_ID));
    const member = group.members.get(req.memberId);
    if (!member) return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID));
    if (req.generationId !== group.generationId) return Promise.resolve(fail(ErrorCode.ILLEGAL_GENERATION));
    if (
      (req.protocolType !== null && req.protocolType !== group.protocolType) ||
      (req.protocolName !== null && req.protocolName !== group.protocolName)
    )
      return Promise.resolve(fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    switch (group.state) {
      case 'PreparingRebalance':
        return Promise.resolve(fail(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'Stable':
        this.touch(group, member);
        return Promise.resolve(this.syncResultFor(group, member));
      case 'CompletingRebalance': {
        this.touch(group, member);
        const result = new Promise<SyncResult>((resolve) => {
          member.awaitingSync = resolve;
        });
        if (req.memberId === group.leaderId) {
          const byId = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
          for (const m of group.members.values()) m.assignment = byId.get(m.memberId) ?? EMPTY;
          const generation = group.generationId;
          void this.persistGroup(group).then(
            () => {
              if (group.state !== 'CompletingRebalance' || group.generationId !== generation) return;
              group.state = 'Stable';
              for (const m of group.members.values()) {
                m.awaitingSync?.(this.syncResultFor(group, m));
                m.awaitingSync = undefined;
              }
            },
            () => {
              for (const m of group.members.values()) {
                m.awaitingSync?.(fail(ErrorCode.COORDINATOR_NOT_AVAILABLE));
                m.awaitingSync = undefined;
              }
              this.prepareRebalance(group);
            },
          );
        }
        return result;
      }
      default:
        return Promise.resolve(fail(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private syncResultFor(group: Group, member: Member): SyncResult {
    return {
      errorCode: ErrorCode.NONE,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      assignment: member.assignment,
    };
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (staticMemberFenced(group, groupInstanceId, memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.touch(group, member);
    return group.state === 'PreparingRebalance' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  leave(
    groupId: string,
    leaving: readonly { memberId: string; groupInstanceId: string | null }[],
  ): { topLevel: number; members: number[] } {
    const group = this.groups.get(groupId);
    if (!group)
      return {
        topLevel: ErrorCode.UNKNOWN_MEMBER_ID,
        members: leaving.map(() => ErrorCode.UNKNOWN_MEMBER_ID),
      };
    const results = leaving.map((l) => {
      let id = l.memberId;
      if (l.groupInstanceId !== null) {
        const current = group.staticMembers.get(l.groupInstanceId);
        if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
        if (id !== '' && id !== current) return ErrorCode.FENCED_INSTANCE_ID;
        id = current;
      }
      const member = group.members.get(id);
      if (!member) {
        const pending = group.pendingMembers.get(id);
        if (!pending) return ErrorCode.UNKNOWN_MEMBER_ID;
        pending();
        group.pendingMembers.delete(id);
        return ErrorCode.NONE;
      }
      this.memberGone(group, member);
      return ErrorCode.NONE;
    });
    return { topLevel: ErrorCode.NONE, members: results };
  }

  /** Resets the member's session deadline. */
  private touch(group: Group, member: Member): void {
    member.cancelSession?.();
    member.cancelSession = this.scheduler.after(member.sessionTimeoutMs, () => {
      if (group.members.get(member.memberId) === member && !member.awaitingJoin)
        this.memberGone(group, member);
    });
  }

  private memberGone(group: Group, member: Member): void {
    member.awaitingJoin?.({
      ...this.joinResultFor(group, member.memberId),
      errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
      members: [],
    });
    member.awaitingJoin = undefined;
    member.awaitingSync?.({
      errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
      protocolType: null,
      protocolName: null,
      assignment: EMPTY,
    });
    member.awaitingSync = undefined;
    this.removeMember(group, member);
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') this.prepareRebalance(group);
    else if (group.state === 'PreparingRebalance') {
      if (group.members.size === 0) this.tryCompleteJoin(group);
      else this.maybeCompleteJoin(group);
    }
  }

  private removeMember(group: Group, member: Member): void {
    member.cancelSession?.();
    group.members.delete(member.memberId);
    if (
      member.groupInstanceId !== null &&
      group.staticMembers.get(member.groupInstanceId) === member.memberId
    )
      group.staticMembers.delete(member.groupInstanceId);
  }

  // ------------------------------------------------------------------ offsets

  async commitOffsets(
    groupId: string,
    generationId: number,
    memberId: string,
    groupInstanceId: string | null,
    offsets: readonly OffsetCommitEntry[],
  ): Promise<number[]> {
    const all = (c: number) => offsets.map(() => c);
    if (groupId === '') return all(ErrorCode.INVALID_GROUP_ID);
    let group = this.groups.get(groupId);
    if (!group) {
      // Kafka lets a group that only stores offsets (no membership) commit with generation -1.
      if (generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = new Group(groupId, this.scheduler.now());
      this.groups.set(groupId, group);
    }
    if (generationId < 0 && memberId === '') {
      if (group.state !== 'Empty') return all(ErrorCode.UNKNOWN_MEMBER_ID);
    } else {
      if (staticMemberFenced(group, groupInstanceId, memberId)) return all(ErrorCode.FENCED_INSTANCE_ID);
      const member = group.members.get(memberId);
      if (!member) return all(ErrorCode.UNKNOWN_MEMBER_ID);
      if (generationId !== group.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
      if (group.state === 'CompletingRebalance') return all(ErrorCode.REBALANCE_IN_PROGRESS);
      this.touch(group, member);
    }
    const { codes, accepted } = this.acceptOffsets(offsets);
    if (accepted.length === 0) return codes;
    try {
      await this.persistence.storeOffsets(groupId, accepted);
    } catch {
      return codes.map((c) => (c === ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : c));
    }
    for (const e of accepted)
      group.offsets.set(offsetKey(e.topic, e.partition), {
        topic: e.topic,
        partition: e.partition,
        value: e.value!,
      });
    return codes;
  }

  /** The offsets a commit may store (metadata within offset.metadata.max.bytes), and each one's code. */
  private acceptOffsets(offsets: readonly OffsetCommitEntry[]): { codes: number[]; accepted: OffsetEntry[] } {
    const now = BigInt(this.scheduler.now());
    const accepted: OffsetEntry[] = [];
    const codes = offsets.map((o) => {
      const metadata = o.metadata ?? '';
      if (Buffer.byteLength(metadata) > this.config.offsetMetadataMaxBytes)
        return ErrorCode.OFFSET_METADATA_TOO_LARGE;
      accepted.push({
        topic: o.topic,
        partition: o.partition,
        value: { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata, commitTimestamp: now },
      });
      return ErrorCode.NONE;
    });
    return { codes, accepted };
  }

  /**
   * TxnOffsetCommit: offsets that become the group's committed offsets only when the producer's
   * transaction commits (its COMMIT marker reaches the group's `__consumer_offsets` partition).
   * A member id, when given, is checked as OffsetCommit checks it (KIP-447).
   */
  async commitTransactionalOffsets(
    groupId: string,
    producer: { readonly producerId: bigint; readonly producerEpoch: number },
    member: { generationId: number; memberId: string; groupInstanceId: string | null },
    offsets: readonly OffsetCommitEntry[],
  ): Promise<number[]> {
    const all = (c: number) => offsets.map(() => c);
    if (groupId === '') return all(ErrorCode.INVALID_GROUP_ID);
    const group = this.groups.get(groupId);
    if (group && member.memberId !== '' && member.generationId >= 0) {
      if (staticMemberFenced(group, member.groupInstanceId, member.memberId))
        return all(ErrorCode.FENCED_INSTANCE_ID);
      const m = group.members.get(member.memberId);
      if (!m) return all(ErrorCode.UNKNOWN_MEMBER_ID);
      if (member.generationId !== group.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
    }
    const { codes, accepted } = this.acceptOffsets(offsets);
    if (accepted.length === 0) return codes;
    try {
      await this.persistence.storeTransactionalOffsets(groupId, producer, accepted);
    } catch (e) {
      const error =
        e instanceof ProducerFencedError
          ? ErrorCode.INVALID_PRODUCER_EPOCH
          : ErrorCode.COORDINATOR_NOT_AVAILABLE;
      return codes.map((c) => (c === ErrorCode.NONE ? error : c));
    }
    for (const e of accepted) this.loadPendingOffset(producer.producerId, groupId, e);
    return codes;
  }

  /** A transactional offset read from the log or just written, awaiting its marker. */
  loadPendingOffset(producerId: bigint, groupId: string, entry: OffsetEntry): void {
    let byGroup = this.pendingTxnOffsets.get(producerId);
    if (!byGroup) {
      byGroup = new Map();
      this.pendingTxnOffsets.set(producerId, byGroup);
    }
    let entries = byGroup.get(groupId);
    if (!entries) {
      entries = new Map();
      byGroup.set(groupId, entries);
    }
    entries.set(offsetKey(entry.topic, entry.partition), entry);
  }

  /**
   * A transaction marker reached a `__consumer_offsets` partition: the producer's pending
   * offsets for the groups `inPartition` selects are committed (or dropped on abort).
   */
  completeTransaction(producerId: bigint, commit: boolean, inPartition: (groupId: string) => boolean): void {
    const byGroup = this.pendingTxnOffsets.get(producerId);
    if (!byGroup) return;
    for (const [groupId, entries] of byGroup) {
      if (!inPartition(groupId)) continue;
      byGroup.delete(groupId);
      if (!commit) continue;
      for (const e of entries.values()) this.loadOffset(groupId, e.topic, e.partition, e.value);
    }
    if (byGroup.size === 0) this.pendingTxnOffsets.delete(producerId);
  }

  /**
   * Whether an open transaction holds an offset for this partition of the group: a KIP-447
   * `require_stable` OffsetFetch must not hand out the older committed offset meanwhile, or a
   * new owner of the partition would reprocess what the transaction is about to commit.
   */
  hasPendingOffset(groupId: string, topic: string, partition: number): boolean {
    const key = offsetKey(topic, partition);
    for (const byGroup of this.pendingTxnOffsets.values()) if (byGroup.get(groupId)?.has(key)) return true;
    return false;
  }

  /** Every committed offset of every group this coordinator holds (metrics: consumer lag). */
  *committedOffsets(): Generator<{ groupId: string; topic: string; partition: number; offset: bigint }> {
    for (const g of this.groups.values())
      for (const o of g.offsets.values())
        yield { groupId: g.groupId, topic: o.topic, partition: o.partition, offset: o.value.offset };
  }

  /** Committed offsets; `topics` null means every partition the group has committed. */
  fetchOffsets(
    groupId: string,
    topics: readonly { topic: string; partitions: readonly number[] }[] | null,
  ): { topic: string; partition: number; offset: bigint; leaderEpoch: number; metadata: string }[] {
    const group = this.groups.get(groupId);
    if (topics === null) {
      return group
        ? [...group.offsets.values()].map((o) => ({
            topic: o.topic,
            partition: o.partition,
            ...pick(o.value),
          }))
        : [];
    }
    return topics.flatMap((t) =>
      t.partitions.map((p) => {
        const o = group?.offsets.get(offsetKey(t.topic, p));
        return {
          topic: t.topic,
          partition: p,
          ...(o ? pick(o.value) : { offset: -1n, leaderEpoch: -1, metadata: '' }),
        };
      }),
    );
  }

  async deleteOffsets(
    groupId: string,
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<{ topLevel: number; codes: number[] }> {
    const group = this.groups.get(groupId);
    if (!group) return { topLevel: ErrorCode.GROUP_ID_NOT_FOUND, codes: [] };
    const subscribed = this.subscribedTopics(group);
    const codes = partitions.map((p) =>
      subscribed.has(p.topic) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE,
    );
    const doomed = partitions.filter((_, i) => codes[i] === ErrorCode.NONE);
    await this.persistence.storeOffsets(
      groupId,
      doomed.map((p) => ({ topic: p.topic, partition: p.partition, value: null })),
    );
    for (const p of doomed) group.offsets.delete(offsetKey(p.topic, p.partition));
    return { topLevel: ErrorCode.NONE, codes };
  }

  /** Topics the group's consumer-protocol members subscribe to (ConsumerProtocolSubscription). */
  private subscribedTopics(group: Group): Set<string> {
    const topics = new Set<string>();
    if (group.protocolType !== 'consumer') return topics;
    for (const m of group.members.values()) {
      const metadata = m.protocols.find((p) => p.name === group.protocolName)?.metadata;
      if (!metadata || metadata.length < 6) continue;
      try {
        let at = 2;
        const n = metadata.readInt32BE(at);
        at += 4;
        for (let i = 0; i < n; i++) {
          const len = metadata.readInt16BE(at);
          at += 2;
          topics.add(metadata.toString('utf8', at, at + len));
          at += len;
        }
      } catch {
        // unparseable subscription: treat as subscribing to nothing
      }
    }
    return topics;
  }

  // ------------------------------------------------------------------ admin

  describe(groupId: string) {
    const group = this.groups.get(groupId);
    if (!group)
      return {
        errorCode: ErrorCode.NONE,
        groupId,
        state: 'Dead',
        protocolType: '',
        protocol: '',
        members: [] as DescribedMember[],
      };
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocol: group.protocolName ?? '',
      members: [...group.members.values()].map(
        (m): DescribedMember => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY,
          memberAssignment: group.state === 'Stable' ? m.assignment : EMPTY,
        }),
      ),
    };
  }

  list(states: readonly string[]): { groupId: string; protocolType: string; state: GroupState }[] {
    return [...this.groups.values()]
      .filter((g) => g.state !== 'Dead' && (states.length === 0 || states.includes(g.state)))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state }));
  }

  async deleteGroup(groupId: string): Promise<number> {
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.state !== 'Empty') return ErrorCode.NON_EMPTY_GROUP;
    await this.persistence.storeOffsets(
      groupId,
      [...group.offsets.values()].map((o) => ({ topic: o.topic, partition: o.partition, value: null })),
    );
    await this.persistence.storeGroup(groupId, null);
    group.state = 'Dead';
    this.groups.delete(groupId);
    return ErrorCode.NONE;
  }

  /** Rebuilds state from `__consumer_offsets` at start-up. */
  loadOffset(groupId: string, topic: string, partition: number, value: OffsetCommitValue | null): void {
    let group = this.groups.get(groupId);
    if (!group) {
      if (value === null) return;
      group = new Group(groupId, this.scheduler.now());
      this.groups.set(groupId, group);
    }
    if (value === null) group.offsets.delete(offsetKey(topic, partition));
    else group.offsets.set(offsetKey(topic, partition), { topic, partition, value });
  }

  /**
   * Rebuilds a group from its last GroupMetadataValue, once its partition's offsets are loaded
   * (Kafka's loadGroup + onGroupLoaded). A group with members comes back Stable in its
   * generation with its leader, protocol and assignments, and every member's session timer
   * starts now: members that keep heartbeating stay without a rebalance, members that never
   * come back expire and the group rebalances as usual.
   */
  loadGroup(groupId: string, value: GroupMetadataValue | null): void {
    if (value === null) {
      const g = this.groups.get(groupId);
      if (g && g.offsets.size === 0) this.groups.delete(groupId);
      return;
    }
    const now = this.scheduler.now();
    let group = this.groups.get(groupId);
    if (!group) {
      group = new Group(groupId, now);
      this.groups.set(groupId, group);
    }
    for (const m of group.members.values()) m.cancelSession?.();
    group.members.clear();
    group.staticMembers.clear();
    group.protocolType = value.protocolType || null;
    group.generationId = value.generation;
    // Members only mean something with the protocol their subscriptions belong to.
    if (value.members.length === 0 || value.protocol === null) {
      group.state = 'Empty';
      group.protocolName = null;
      group.leaderId = null;
      const since = Number(value.currentStateTimestamp);
      group.emptySince = since >= 0 && since <= now ? since : now;
      return;
    }
    group.state = 'Stable';
    group.protocolName = value.protocol;
    group.leaderId = value.leader;
    for (const m of value.members) {
      const member = loadedMember(value.protocol, m);
      group.members.set(member.memberId, member);
      if (member.groupInstanceId !== null) group.staticMembers.set(member.groupInstanceId, member.memberId);
      this.touch(group, member);
    }
  }

  /** Removes expired offsets of empty groups (offsets.retention.minutes, KIP-211). */
  async expireOffsets(retentionMs: number): Promise<number> {
    const now = this.scheduler.now();
    let expired = 0;
    for (const group of this.groups.values()) {
      if (group.state !== 'Empty' || now - group.emptySince < retentionMs) continue;
      const doomed = [...group.offsets.values()].filter(
        (o) => now - Number(o.value.commitTimestamp) >= retentionMs,
      );
      if (doomed.length === 0) continue;
      await this.persistence.storeOffsets(
        group.groupId,
        doomed.map((o) => ({ topic: o.topic, partition: o.partition, value: null })),
      );
      for (const o of doomed) group.offsets.delete(offsetKey(o.topic, o.partition));
      expired += doomed.length;
    }
    return expired;
  }

  /** Stores the group with its members and their assignments (only at rebalance points). */
  private persistGroup(group: Group): Promise<void> {
    return this.persistence.storeGroup(group.groupId, {
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol: group.protocolName,
      leader: group.leaderId,
      currentStateTimestamp: BigInt(this.scheduler.now()),
      members: [...group.members.values()].map(
        (m): GroupMemberMetadata => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeout: m.rebalanceTimeoutMs,
          sessionTimeout: m.sessionTimeoutMs,
          subscription: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY,
          assignment: m.assignment,
        }),
      ),
    });
  }

  /**
   * This broker stopped coordinating the groups `owned` selects (it lost leadership of their
   * `__consumer_offsets` partition): members waiting on a join or sync are told NOT_COORDINATOR,
   * so they find the new coordinator, and the groups' state is dropped here.
   */
  unload(owned: (groupId: string) => boolean): number {
    let unloaded = 0;
    for (const [producerId, byGroup] of this.pendingTxnOffsets) {
      for (const groupId of byGroup.keys()) if (owned(groupId)) byGroup.delete(groupId);
      if (byGroup.size === 0) this.pendingTxnOffsets.delete(producerId);
    }
    for (const [id, g] of this.groups) {
      if (!owned(id)) continue;
      g.cancelRebalance?.();
      for (const cancel of g.pendingMembers.values()) cancel();
      for (const m of g.members.values()) {
        m.cancelSession?.();
        m.awaitingJoin?.({
          errorCode: ErrorCode.NOT_COORDINATOR,
          generationId: -1,
          protocolType: null,
          protocolName: null,
          leader: '',
          memberId: m.memberId,
          members: [],
        });
        m.awaitingSync?.({
          errorCode: ErrorCode.NOT_COORDINATOR,
          protocolType: null,
          protocolName: null,
          assignment: EMPTY,
        });
        m.awaitingJoin = undefined;
        m.awaitingSync = undefined;
      }
      this.groups.delete(id);
      unloaded++;
    }
    return unloaded;
  }

  /** Cancels every timer (broker shutdown). */
  shutdown(): void {
    for (const g of this.groups.values()) {
      g.cancelRebalance?.();
      for (const m of g.members.values()) m.cancelSession?.();
      for (const cancel of g.pendingMembers.values()) cancel();
    }
  }
}

export interface DescribedMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  memberMetadata: Buffer;
  memberAssignment: Buffer;
}

/** A persisted member, which knows only the subscription of the group's protocol (as in Kafka). */
function loadedMember(protocol: string, m: GroupMemberMetadata): Member {
  return {
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    sessionTimeoutMs: m.sessionTimeout,
    // v0 records had no rebalance timeout; Kafka falls back to the session timeout.
    rebalanceTimeoutMs: m.rebalanceTimeout < 0 ? m.sessionTimeout : m.rebalanceTimeout,
    protocols: [{ name: protocol, metadata: m.subscription }],
    assignment: m.assignment,
  };
}

function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function pick(v: OffsetCommitValue) {
  return { offset: v.offset, leaderEpoch: v.leaderEpoch, metadata: v.metadata };
}

/** Whether both lists carry the same subscription for the group's chosen protocol. */
function sameSubscription(protocol: string | null, a: readonly Protocol[], b: readonly Protocol[]): boolean {
  const mine = a.find((p) => p.name === protocol);
  const theirs = b.find((p) => p.name === protocol);
  return mine !== undefined && theirs !== undefined && mine.metadata.equals(theirs.metadata);
}

function sameProtocols(a: readonly Protocol[], b: readonly Protocol[]): boolean {
  return (
    a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata))
  );
}

/**
 * Kafka's `isStaticMemberFenced`, checked before the member id itself (`validateCurrentMember`): a
 * request naming a group.instance.id that now belongs to another member id comes from the instance
 * a newer one replaced, and gets FENCED_INSTANCE_ID, which clients treat as fatal (an
 * UNKNOWN_MEMBER_ID would make the old instance rejoin and fence the new one in turn).
 */
function staticMemberFenced(group: Group, groupInstanceId: string | null, memberId: string): boolean {
  if (groupInstanceId === null) return false;
  const current = group.staticMembers.get(groupInstanceId);
  return current !== undefined && current !== memberId;
}
