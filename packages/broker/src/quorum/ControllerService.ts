import { connect } from 'node:net';
import {
  imageToRecords,
  type MetadataAppendQueue,
  type MetadataPublisher,
  type MetadataSnapshot,
  QuorumController,
  type QuorumControllerSettings,
} from '@fjord/metadata';
import type { Logger } from 'pino';
import type { BrokerAddress } from '../network/BrokerClient.js';
import type { ElectionListener } from './ControllerElection.js';

export interface ControllerServiceSettings extends QuorumControllerSettings {
  readonly heartbeatIntervalMs: number;
  /** auto.leader.rebalance.enable / leader.imbalance.check.interval.seconds */
  readonly autoLeaderRebalance: boolean;
  readonly leaderRebalanceIntervalMs: number;
  /** Records between metadata snapshots (fjord.metadata.snapshot.interval.records). */
  readonly snapshotIntervalRecords: number;
}

/** Where snapshots go (PostgreSQL in a cluster; a standalone broker's file log keeps none). */
export interface SnapshotWriter {
  latestSnapshot(): Promise<MetadataSnapshot | undefined>;
  writeSnapshot(snapshot: MetadataSnapshot, trimBelow: number): Promise<void>;
}

const SNAPSHOT_CHECK_MS = 5000;

/** How often lapsed broker sessions are looked for. */
const SESSION_CHECK_MS = 100;
const PROBE_ATTEMPTS = 6;
const PROBE_INTERVAL_MS = 200;

/**
 * Runs the QuorumController while this broker holds the controller lease: starts it when the
 * lease is won (after catching up with the metadata log), drives its timers (session expiry,
 * leader rebalance), and notices crashed brokers early: when a broker's heartbeat connection
 * closes and its listener refuses connections, its process is gone, so it is fenced at once
 * rather than after a session timeout. The same check runs for the previous controller when
 * taking over from it.
 */
export class ControllerService implements ElectionListener {
  private controller: QuorumController | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** Connection id → the broker (and epoch) whose heartbeats arrive on it. */
  private readonly heartbeatConnections = new Map<string, { brokerId: number; brokerEpoch: number }>();

  constructor(
    private readonly metadataQueue: MetadataAppendQueue,
    private readonly publisher: MetadataPublisher,
    private readonly settings: ControllerServiceSettings,
    private readonly addressOf: (brokerId: number) => BrokerAddress | undefined,
    private readonly log: Logger,
    private readonly snapshots?: SnapshotWriter,
  ) {}

  get active(): QuorumController | undefined {
    return this.controller;
  }

  async activated(_epoch: number, previous: number | undefined): Promise<void> {
    await this.publisher.catchUp();
    const controller = new QuorumController(this.metadataQueue, this.publisher, this.settings);
    // The previous controller's heartbeats went to itself: if it lives, it heartbeats here soon.
    controller.activate(
      Date.now(),
      previous === undefined ? [] : [previous],
      4 * this.settings.heartbeatIntervalMs,
    );
    this.controller = controller;
    this.every(SESSION_CHECK_MS, async () => {
      const fenced = await controller.fenceExpired(Date.now());
      if (fenced.length > 0) this.log.warn({ brokers: fenced }, 'fenced brokers whose session expired');
    });
    if (this.settings.autoLeaderRebalance)
      this.every(this.settings.leaderRebalanceIntervalMs, () => controller.rebalanceLeaders());
    const snapshots = this.snapshots;
    if (snapshots) {
      let last: number | undefined;
      this.every(SNAPSHOT_CHECK_MS, async () => {
        last ??= (await snapshots.latestSnapshot())?.offset ?? -1;
        const image = this.publisher.image;
        if (image.offset - last < this.settings.snapshotIntervalRecords) return;
        // The log is kept back to the previous snapshot, so brokers a little behind catch up by log.
        await snapshots.writeSnapshot({ offset: image.offset, records: imageToRecords(image) }, last + 1);
        this.log.info({ offset: image.offset, trimmedBelow: last + 1 }, 'wrote metadata snapshot');
        last = image.offset;
      });
    }
    if (previous !== undefined)
      void this.fenceIfGone(previous, this.publisher.image.brokers.get(previous)?.brokerEpoch);
  }

  resigned(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.controller = undefined;
    this.heartbeatConnections.clear();
  }

  heartbeatSeen(brokerId: number, brokerEpoch: number, connectionId: string): void {
    this.heartbeatConnections.set(connectionId, { brokerId, brokerEpoch });
  }

  connectionClosed(connectionId: string): void {
    const who = this.heartbeatConnections.get(connectionId);
    if (!who) return;
    this.heartbeatConnections.delete(connectionId);
    void this.fenceIfGone(who.brokerId, who.brokerEpoch);
  }

  stop(): void {
    this.resigned();
  }

  /**
   * Looks a few times over about a second: a process being killed may still hold its listening
   * socket for a moment (the connection that closed is the first thing to go).
   */
  private async fenceIfGone(brokerId: number, brokerEpoch: number | undefined): Promise<void> {
    const address = this.addressOf(brokerId);
    if (!address) return;
    let gone = false;
    for (let attempt = 0; attempt < PROBE_ATTEMPTS && !gone; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS));
      gone = await refusesConnections(address);
    }
    if (!gone) return;
    const controller = this.controller;
    if (!controller || this.publisher.image.brokers.get(brokerId)?.fenced !== false) return;
    this.log.warn({ broker: brokerId, address }, 'broker process is gone, fencing it now');
    await controller.fence(brokerId, brokerEpoch);
  }

  private every(ms: number, task: () => Promise<void>): void {
    let running = false;
    const t = setInterval(() => {
      if (running) return;
      running = true;
      task()
        .catch((err) => this.log.warn({ err: (err as Error).message }, 'controller task failed'))
        .finally(() => {
          running = false;
        });
    }, ms);
    t.unref();
    this.timers.push(t);
  }
}

/** True when nothing listens at the address any more (connection refused). */
function refusesConnections(address: BrokerAddress, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address.host, port: address.port });
    const done = (refused: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(refused);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(false));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED'));
  });
}
