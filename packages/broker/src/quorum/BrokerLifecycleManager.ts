import { ApiKey, type BrokerRegistrationRequestInput, ErrorCode } from '@fjord/protocol';
import type { Logger } from 'pino';
import type { ControllerChannel } from './ControllerChannel.js';

export interface BrokerLifecycleSettings {
  readonly brokerId: number;
  /** broker.heartbeat.interval.ms */
  readonly heartbeatIntervalMs: number;
  /** While fenced (catching up after registering) heartbeats go out this often. */
  readonly fencedHeartbeatIntervalMs: number;
  readonly requestTimeoutMs: number;
}

const REGISTRATION_VERSION = 3;
const HEARTBEAT_VERSION = 1;

/**
 * This broker's side of its lifecycle, as Kafka's BrokerLifecycleManager: register with the
 * controller (again, whenever the controller no longer knows our epoch), heartbeat with how
 * far our metadata image got and which log dirs failed, learn when we are unfenced, and on
 * shutdown ask for a controlled shutdown and wait until the controller says we may stop.
 */
export class BrokerLifecycleManager {
  private epoch = -1;
  private fenced = true;
  private wantShutDown = false;
  private running = false;
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  /** A heartbeat is due as soon as the one in flight returns (our image moved meanwhile). */
  private beatAgain = false;
  private readonly unfencedWaiters: (() => void)[] = [];
  private shutdownDone?: () => void;

  constructor(
    private readonly channel: ControllerChannel,
    private readonly settings: BrokerLifecycleSettings,
    private readonly registration: () => BrokerRegistrationRequestInput,
    private readonly metadataOffset: () => number,
    private readonly offlineLogDirs: () => string[],
    private readonly log: Logger,
  ) {}

  get brokerEpoch(): number {
    return this.epoch;
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  /** Resolves true once the controller unfenced us, false if `timeoutMs` passed first. */
  waitUntilUnfenced(timeoutMs: number): Promise<boolean> {
    if (!this.fenced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.unfencedWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Asks to shut down: the controller moves our leadership away and takes us out of ISRs, then
   * says we may stop. Resolves when it did, or when `timeoutMs` passed (then we stop anyway).
   */
  async controlledShutdown(timeoutMs: number): Promise<boolean> {
    if (!this.running || this.epoch < 0) return false;
    this.wantShutDown = true;
    const done = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.shutdownDone = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    this.schedule(0);
    const ok = await done;
    this.stop();
    return ok;
  }

  /**
   * Heartbeat now rather than at the next interval: our metadata image advanced (admin requests
   * wait for every broker to see their change) or a log dir failed (its replicas must fail over).
   */
  heartbeatSoon(): void {
    if (!this.running || this.epoch < 0) return;
    if (this.beating) this.beatAgain = true;
    else this.schedule(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.beating ??= this.tick().finally(() => {
        this.beating = undefined;
        const interval =
          this.wantShutDown || this.fenced
            ? this.settings.fencedHeartbeatIntervalMs
            : this.settings.heartbeatIntervalMs;
        this.schedule(this.beatAgain ? 0 : interval);
        this.beatAgain = false;
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      if (this.epoch < 0) await this.register();
      else await this.heartbeat();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'controller unreachable');
    }
  }

  private async register(): Promise<void> {
    const r = await this.channel.send(
      ApiKey.BrokerRegistration,
      REGISTRATION_VERSION,
      this.registration(),
      this.settings.requestTimeoutMs,
    );
    if (r.errorCode !== ErrorCode.NONE) {
      this.log.error({ errorCode: r.errorCode }, 'broker registration refused');
      return;
    }
    this.epoch = Number(r.brokerEpoch);
    this.fenced = true;
    this.log.info({ brokerEpoch: this.epoch }, 'registered with the controller');
    await this.heartbeat();
  }

  private async heartbeat(): Promise<void> {
    const r = await this.channel.send(
      ApiKey.BrokerHeartbeat,
      HEARTBEAT_VERSION,
      {
        brokerId: this.settings.brokerId,
        brokerEpoch: BigInt(this.epoch),
        currentMetadataOffset: BigInt(this.metadataOffset()),
        wantFence: false,
        wantShutDown: this.wantShutDown,
        offlineLogDirs: this.offlineLogDirs(),
      },
      this.settings.requestTimeoutMs,
    );
    if (r.errorCode === ErrorCode.STALE_BROKER_EPOCH || r.errorCode === ErrorCode.BROKER_ID_NOT_REGISTERED) {
      // The controller lost our registration (or we were replaced): register again.
      this.log.warn({ errorCode: r.errorCode }, 'heartbeat refused, registering again');
      this.epoch = -1;
      this.fenced = true;
      return;
    }
    if (r.errorCode !== ErrorCode.NONE) return;
    if (this.fenced !== r.isFenced) this.log.info({ fenced: r.isFenced }, r.isFenced ? 'fenced' : 'unfenced');
    this.fenced = r.isFenced;
    if (!this.fenced) for (const w of this.unfencedWaiters.splice(0)) w();
    if (r.shouldShutDown) this.shutdownDone?.();
  }
}
