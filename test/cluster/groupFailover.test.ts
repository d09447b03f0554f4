/**
 * A consumer group keeps its members when its coordinator fails over (issue 13), on a real
 * 3-broker cluster with librdkafka members: the group's coordinator is killed (-9) or stopped
 * (controlled shutdown), the broker that takes its `__consumer_offsets` partition over loads the
 * group with its members, and the members carry on heartbeating and committing there — no
 * rebalance (no assign/revoke/lost callback after the first assignment), the same member ids,
 * and no record delivered twice. Dynamic members go through a kill -9 and a controlled shutdown,
 * static members (group.instance.id) through a kill -9.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onJsonLines, ProducerWorkload, startTestCluster, type TestCluster, waitFor } from './harness.js';

const PYTHON = '/usr/bin/python3'; // Debian's Python, which sees python3-confluent-kafka
const MEMBER = join(import.meta.dirname, 'clients/group_member.py');
/**
 * The members' session timeout. Generous on purpose: librdkafka gives its assignment up itself
 * when no heartbeat succeeds for this long, and a kill -9 leaves the group without a coordinator
 * until the broker's session (6 s) expires and a new leader loads the partition — slow on a
 * loaded 2-core CI machine. The test waits on progress, not on this.
 */
const SESSION_TIMEOUT_MS = 45_000;
/** Deadline for each wait on progress; detects a stuck cluster, not a slow one. */
const LIVENESS_MS = 120_000;
const PARTITIONS = 4;

let t: TestCluster;

beforeAll(async () => {
  t = await startTestCluster({
    brokers: 3,
    zones: 3,
    overrides: {
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'replica.lag.time.max.ms': '10000',
    },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

interface MemberEvent {
  readonly t?: number;
  readonly assign?: number[];
  readonly revoke?: number[];
  readonly lost?: number[];
  readonly p?: number;
  readonly o?: number;
  readonly v?: string;
  readonly committed?: number;
  readonly commit_err?: string;
  readonly e?: string;
  readonly closing?: boolean;
}

/** One librdkafka group member in its own process (clients/group_member.py). */
class GroupMember {
  readonly events: MemberEvent[] = [];
  private readonly child: ChildProcess;
  private readonly done: Promise<void>;
  private stderr = '';

  constructor(
    bootstrap: string,
    topic: string,
    group: string,
    readonly clientId: string,
    readonly groupInstanceId?: string,
  ) {
    const args = [MEMBER, bootstrap, topic, group, clientId, String(SESSION_TIMEOUT_MS)];
    if (groupInstanceId) args.push(groupInstanceId);
    this.child = spawn(PYTHON, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onJsonLines(
      this.child.stdout!,
      (event) => this.events.push(event as MemberEvent),
      (text) => {
        this.stderr += `unparseable output: ${text}\n`;
      },
    );
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.done = new Promise((resolve, reject) => {
      this.child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`member exited ${code}: ${this.stderr}`)),
      );
    });
    // A member that dies early fails the test through its missing progress, and stop() reports it.
    this.done.catch(() => {});
  }

  /** Assign/revoke/lost callbacks before the member began closing. */
  rebalanceCallbacks(): MemberEvent[] {
    const closing = this.events.findIndex((e) => e.closing);
    return (closing < 0 ? this.events : this.events.slice(0, closing)).filter(
      (e) => e.assign !== undefined || e.revoke !== undefined || e.lost !== undefined,
    );
  }

  /** The partitions of the last assignment, if the last callback was an assignment. */
  assigned(): number[] | undefined {
    const last = this.rebalanceCallbacks().at(-1);
    return last?.assign;
  }

  records(): MemberEvent[] {
    return this.events.filter((e) => e.v !== undefined);
  }

  commitsSince(at: number): number {
    return this.events.filter((e) => e.committed !== undefined && e.t! >= at).length;
  }

  stop(): Promise<void> {
    this.child.kill('SIGTERM');
    return this.done;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

async function coordinatorOf(group: string): Promise<number> {
  const c = await t.probe.send(ApiKey.FindCoordinator, 3, { key: group, keyType: 0, coordinatorKeys: [] });
  if (c.errorCode !== ErrorCode.NONE) throw new Error(`FindCoordinator ${group}: ${c.errorCode}`);
  return c.nodeId;
}

/** The group as one broker describes it: error, state, members as `clientId|groupInstanceId=memberId`. */
async function describeAt(broker: number, group: string) {
  const d = await t.probe.sendTo(broker, ApiKey.DescribeGroups, 5, {
    groups: [group],
    includeAuthorizedOperations: false,
  });
  const g = d.groups[0]!;
  return {
    errorCode: g.errorCode,
    state: g.groupState,
    members: g.members.map((m) => `${m.clientId}|${m.groupInstanceId ?? ''}=${m.memberId}`).sort(),
  };
}

/** (partition, offset) pairs delivered more than once, over all members. */
function redelivered(members: readonly GroupMember[]): string[] {
  const seen = new Map<string, number>();
  for (const m of members)
    for (const r of m.records()) seen.set(`${r.p}/${r.o}`, (seen.get(`${r.p}/${r.o}`) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
}

describe.sequential('a consumer group whose coordinator fails over', () => {
  const cases = [
    { how: 'kill -9', name: 'killed', statics: false },
    { how: 'controlled shutdown', name: 'stopped', statics: false },
    { how: 'kill -9', name: 'static', statics: true },
  ] as const;
  for (const { how, name, statics } of cases) {
    const who = statics ? 'static members (group.instance.id)' : 'its members';
    it(`keeps ${who}, without a rebalance or a re-delivery, when the coordinator goes by ${how}`, {
      timeout: LIVENESS_MS * 6,
    }, async () => {
      const topic = `failover-${name}`;
      const group = `group-${name}`;
      await t.probe.createTopic(topic, PARTITIONS, 3);
      const bootstrap = t.cluster.bootstrapServers;
      // Runs until stopped: records keep arriving before, during and after the move.
      const producer = new ProducerWorkload(bootstrap, topic, PARTITIONS, 3600, 100, name);
      const members = [0, 1].map(
        (i) =>
          new GroupMember(bootstrap, topic, group, `${name}-member-${i}`, statics ? `pod-${i}` : undefined),
      );
      let victim = -1;
      try {
        // Settled: both members hold an assignment, together every partition, each some.
        await waitFor(
          () => {
            const parts = members.map((m) => m.assigned() ?? []);
            return parts.every((p) => p.length > 0) && new Set(parts.flat()).size === PARTITIONS;
          },
          LIVENESS_MS,
          'both members to be assigned',
        );
        await waitFor(() => members.every((m) => m.records().length >= 50), LIVENESS_MS, 'first records');
        const callbacksBefore = members.map((m) => m.rebalanceCallbacks().length);
        victim = await coordinatorOf(group);
        const before = await describeAt(victim, group);
        expect(before.state).toBe('Stable');
        expect(before.members.map((m) => m.split('=')[0])).toEqual(
          members.map((m) => `${m.clientId}|${m.groupInstanceId ?? ''}`),
        );
        const ids = before.members;

        const movedAt = Date.now();
        if (how === 'kill -9') await t.cluster.broker(victim).kill();
        else await t.cluster.broker(victim).stop();

        // The new coordinator has the group as soon as it answers: Stable, with the same members ...
        let successor = -1;
        await waitFor(
          async () => {
            successor = await coordinatorOf(group);
            if (successor === victim) return false;
            return (await describeAt(successor, group)).errorCode === ErrorCode.NONE;
          },
          LIVENESS_MS,
          'a new coordinator',
        );
        expect(await describeAt(successor, group)).toMatchObject({ state: 'Stable', members: ids });
        // ... and both members commit there, and go on consuming for long enough that each has
        // heartbeated the new coordinator several times (heartbeat.interval.ms is 1 s): records
        // arrive at 100/s over 4 partitions, ~50/s per member, so 300 records take ~6 s however
        // fast the machine — a count of progress, not a guess of speed.
        const takenOverAt = Date.now();
        const consumedAtMove = members.map((m) => m.records().length);
        await waitFor(
          () =>
            members.every(
              (m, i) => m.commitsSince(takenOverAt) >= 300 && m.records().length >= consumedAtMove[i]! + 300,
            ),
          LIVENESS_MS,
          'commits at the new coordinator',
        );
        await producer.stop();
        // Everything the producer got acknowledged is consumed (offsets are unique per partition).
        const acked = new Set(producer.acked().map((d) => `${d.p}/${d.o}`));
        await waitFor(
          () => {
            const consumed = new Set(members.flatMap((m) => m.records().map((r) => `${r.p}/${r.o}`)));
            return [...acked].every((k) => consumed.has(k));
          },
          LIVENESS_MS,
          'every acknowledged record to be consumed',
        );

        // No member saw a rebalance: no callback after the settled assignment.
        expect(
          members.map((m, i) => m.rebalanceCallbacks().slice(callbacksBefore[i]!)),
          `rebalance callbacks after the coordinator (broker ${victim}) went at ${movedAt}`,
        ).toEqual([[], []]);
        expect(await describeAt(successor, group)).toMatchObject({ state: 'Stable', members: ids });
        // Each member commits every record before it takes the next, and nothing rebalanced, so
        // its position never went back: no record may come twice. (Were a rebalance to move a
        // partition, at most the one record a member had not yet committed could; the move
        // dropped every member before the fix, which replayed ~10% of the records.)
        expect(redelivered(members)).toEqual([]);
        // Commits failed only while no coordinator answered, never with a fencing error.
        const fencing = members.flatMap((m) =>
          m.events.filter((e) =>
            /UNKNOWN_MEMBER_ID|ILLEGAL_GENERATION|REBALANCE_IN_PROGRESS/.test(e.commit_err ?? ''),
          ),
        );
        expect(fencing).toEqual([]);
        console.log(
          `${name} (${how}): coordinator ${victim} -> ${successor}; records consumed ${members.map((m) => m.records().length)}; failed commit attempts ${members.map((m) => m.events.filter((e) => e.commit_err).length)}`,
        );
        await Promise.all(members.map((m) => m.stop()));
      } finally {
        for (const m of members) m.kill();
        await producer.stop().catch(() => {});
        // The broker comes back for the next case (even after a failure), and every replica catches up.
        if (victim > 0 && !t.cluster.broker(victim).running) await t.cluster.broker(victim).start();
        await waitFor(
          async () => (await t.probe.underReplicated()) === 0,
          LIVENESS_MS,
          'replicas to catch up',
        );
      }
    });
  }
});
