import type { ControllerLeaseStore } from '@fjord/metadata';
import type { Logger } from 'pino';

export interface ControllerElectionSettings {
  readonly brokerId: number;
  /** How long a lease lasts without renewal (fjord.controller.lease.ms). */
  readonly leaseMs: number;
  /** How often the holder renews and the others look (fjord.controller.lease.renew.ms). */
  readonly renewMs: number;
}

export interface ElectionListener {
  /** This broker now holds the lease; `previous` is the holder it took over from, if another. */
  activated(epoch: number, previous: number | undefined): Promise<void>;
  /** The lease is lost (or could not be renewed in time): stop acting as controller now. */
  resigned(): void;
}

/**
 * Which broker is the active controller: every broker tries to take or renew the controller
 * lease in PostgreSQL; the holder is the controller. Consensus is the database's (the lease row
 * and its epoch as fencing token, checked again by every metadata append); this only decides
 * who acts. The holder steps down by its own clock when it could not renew in time, before
 * another broker can take over. With no lease store (a standalone broker) this broker is the
 * controller from the start.
 */
export class ControllerElection {
  private holder: number | undefined;
  private active = false;
  private validUntil = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private attempting = false;

  constructor(
    private readonly store: ControllerLeaseStore | undefined,
    private readonly settings: ControllerElectionSettings,
    private readonly listener: ElectionListener,
    private readonly log: Logger,
  ) {}

  /** The active controller as last seen (this broker while it holds the lease). */
  get controllerId(): number | undefined {
    return this.active ? this.settings.brokerId : this.holder;
  }

  get isActive(): boolean {
    return this.active && (this.store === undefined || Date.now() < this.validUntil);
  }

  async start(): Promise<void> {
    if (!this.store) {
      this.active = true;
      this.holder = this.settings.brokerId;
      await this.listener.activated(0, undefined);
      return;
    }
    await this.attempt();
  }

  /** Looks again now (a request to the controller failed: it may have changed). */
  poke(): void {
    if (this.store && !this.stopped && !this.active) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.active) {
      this.resign();
      await this.store?.releaseLease().catch(() => {});
    }
  }

  private async attempt(): Promise<void> {
    if (this.stopped || !this.store || this.attempting) return;
    this.attempting = true;
    try {
      await this.attemptOnce();
    } finally {
      this.attempting = false;
    }
  }

  private async attemptOnce(): Promise<void> {
    if (!this.store) return;
    const started = Date.now();
    let next = this.settings.renewMs;
    try {
      const lease = await this.store.acquireLease(this.settings.leaseMs);
      if (this.stopped) return;
      if (lease.holderBrokerId === this.settings.brokerId) {
        // Conservative: the lease counts from before the request was sent.
        this.validUntil = started + this.settings.leaseMs - this.settings.renewMs / 2;
        if (!this.active) {
          const previous = this.holder !== this.settings.brokerId ? this.holder : undefined;
          this.active = true;
          this.holder = this.settings.brokerId;
          this.log.info({ epoch: lease.epoch, previous }, 'became the active controller');
          await this.listener.activated(lease.epoch, previous);
        }
      } else {
        if (this.active) this.resign();
        if (this.holder !== lease.holderBrokerId)
          this.log.info({ controller: lease.holderBrokerId, epoch: lease.epoch }, 'controller changed');
        this.holder = lease.holderBrokerId;
        // Try again the moment the lease can lapse, so a dead holder is replaced without delay.
        next = Math.max(10, Math.min(this.settings.renewMs, lease.remainingMs + 10));
      }
    } catch (err) {
      this.log.warn({ err }, 'controller lease check failed');
      if (this.active && Date.now() >= this.validUntil) this.resign();
    }
    if (this.active) {
      // Step down by our own clock if renewals keep failing.
      const untilInvalid = this.validUntil - Date.now();
      next = Math.min(next, Math.max(untilInvalid, 10));
    }
    this.schedule(next);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      if (this.active && Date.now() >= this.validUntil) this.resign();
      void this.attempt();
    }, ms);
    this.timer.unref();
  }

  private resign(): void {
    if (!this.active) return;
    this.active = false;
    this.holder = undefined;
    this.log.warn('no longer the active controller');
    this.listener.resigned();
  }
}
