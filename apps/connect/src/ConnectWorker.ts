import type { AllowedNetworks } from '@fjord/egress';
import type { Logger } from 'pino';
import type { ConnectMetrics } from './ConnectMetrics.js';
import { type ConnectorSpec, LeaseLost, type LeaseStore, leaseKey, type TaskLease } from './LeaseStore.js';
import { runMirror } from './mirror/MirrorTask.js';
import { runPostgresSink } from './postgres/PostgresSinkTask.js';
import { runS3Sink } from './s3/S3SinkTask.js';
import type { TaskRun } from './TaskContext.js';
import { balanceStep, fairShare } from './taskBalance.js';
import { taskFailureReason } from './taskFailureReason.js';

/** The task code of each connector type. */
const TASKS: Readonly<Record<string, TaskRun>> = {
  's3-sink': runS3Sink,
  mirror: runMirror,
  'postgres-sink': runPostgresSink,
};

export interface ConnectWorkerOptions {
  readonly adminSecret: string;
  /** Non-public networks connectors may reach (`FJORD_CONNECTOR_ALLOWED_NETWORKS`). */
  readonly allowedNetworks: AllowedNetworks;
  /** How often leases are renewed and connectors' desired state is read. */
  readonly heartbeatMs: number;
  /** Tasks this worker runs at most. */
  readonly maxTasks: number;
  /** `host:port` of this worker's `/metrics`, for Prometheus's discovery. */
  readonly metricsAddress?: string;
  /** Backoff of a failed task: doubles from `minRetryMs` up to `maxRetryMs`. */
  readonly minRetryMs: number;
  readonly maxRetryMs: number;
}

interface HeldTask {
  readonly lease: TaskLease;
  running?: { readonly abort: AbortController; readonly done: Promise<void>; readonly generation: number };
  failures: number;
  retryAt: number;
  /** Set when the runner ended because the lease was lost: the task is dropped on the next round. */
  lost: boolean;
}

/**
 * One connector worker process: every heartbeat it renews its leases, marks itself alive, gives
 * back the tasks it holds beyond its fair share of all tasks over the live workers (so a new
 * worker gets its share) or takes a free one if it is below it (one per round, so that workers
 * starting together share the tasks), and makes each held task match its connector's desired
 * state and generation (docs/adr/0022-connector-runtime.md).
 */
export class ConnectWorker {
  private readonly held = new Map<string, HeldTask>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private round: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: LeaseStore,
    private readonly metrics: ConnectMetrics,
    private readonly log: Logger,
    private readonly options: ConnectWorkerOptions,
  ) {}

  start(): void {
    const loop = () => {
      this.round = this.tick().catch((e: unknown) => this.log.warn({ err: e }, 'connect round failed'));
      void this.round.then(() => {
        if (!this.stopping) this.timer = setTimeout(loop, this.options.heartbeatMs);
      });
    };
    loop();
  }

  /** Stops every task, then gives the leases back so another worker takes them at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.round;
    const tasks = [...this.held.values()];
    for (const t of tasks) t.running?.abort.abort();
    await Promise.all(tasks.map((t) => t.running?.done));
    for (const t of tasks) await this.store.release(t.lease).catch(() => {});
    this.held.clear();
    await this.store.leave().catch(() => {});
  }

  private drop(key: string, t: HeldTask): void {
    t.running?.abort.abort();
    this.held.delete(key);
  }

  private async tick(): Promise<void> {
    const alive = await this.store.renew([...this.held.values()].map((t) => t.lease));
    for (const [key, t] of this.held)
      if (!alive.has(key) || t.lost) {
        this.log.info({ task: key }, 'lease lost: task stopped');
        this.drop(key, t);
        if (t.lost) await this.store.release(t.lease).catch(() => {});
      }
    const { workers, tasks } = await this.store.heartbeat(this.options.metricsAddress ?? null);
    const step = balanceStep(this.held.size, fairShare(tasks, workers, this.options.maxTasks));
    // The most recently taken go back first: long-running tasks keep their worker.
    for (const [key, t] of [...this.held].reverse().slice(0, step.release)) {
      this.log.info({ task: key, workers, tasks }, "task given back: above this worker's share");
      this.drop(key, t);
      await t.running?.done;
      await this.store.release(t.lease).catch(() => {});
    }
    if (!this.stopping && step.acquire > 0)
      for (const lease of await this.store.acquire(step.acquire)) {
        this.log.info({ task: leaseKey(lease), epoch: lease.epoch }, 'task lease taken');
        this.held.set(leaseKey(lease), { lease, failures: 0, retryAt: 0, lost: false });
      }
    this.metrics.tasksHeld.set(this.held.size);
    for (const [key, t] of this.held) {
      const spec = await this.store.connector(t.lease.connectorId);
      if (!spec) {
        this.drop(key, t);
        continue;
      }
      await this.reconcile(t, spec);
    }
  }

  private async reconcile(t: HeldTask, spec: ConnectorSpec): Promise<void> {
    if (t.running && (spec.desiredState === 'PAUSED' || t.running.generation !== spec.generation)) {
      t.running.abort.abort();
      await t.running.done;
      t.running = undefined;
      // A restart starts at once, failures forgotten.
      t.failures = 0;
      t.retryAt = 0;
    }
    if (spec.desiredState === 'PAUSED') {
      await this.store.setState(t.lease, 'PAUSED', null);
      return;
    }
    if (!t.running && !t.lost && Date.now() >= t.retryAt) this.run(t, spec);
  }

  private run(t: HeldTask, spec: ConnectorSpec): void {
    const abort = new AbortController();
    const labels = { instance: spec.instanceId, connector: spec.id, task: String(t.lease.task) };
    const taskRun = TASKS[spec.type];
    const done = (async () => {
      if (!taskRun) throw new Error(`no task code for connector type ${spec.type}`);
      await taskRun({
        lease: t.lease,
        connector: spec,
        store: this.store,
        adminSecret: this.options.adminSecret,
        allowedNetworks: this.options.allowedNetworks,
        metrics: this.metrics,
        log: this.log.child({ connector: spec.id, task: t.lease.task }),
        signal: abort.signal,
        healthy: () => {
          t.failures = 0;
          void this.store.setState(t.lease, 'RUNNING', null).catch(() => {});
        },
      });
    })().then(
      () => {
        if (t.running?.abort === abort) t.running = undefined;
      },
      async (e: unknown) => {
        if (t.running?.abort === abort) t.running = undefined;
        if (e instanceof LeaseLost) {
          t.lost = true;
          return;
        }
        if (abort.signal.aborted) return; // stopped on purpose: whatever it threw on the way out
        t.failures++;
        const wait = Math.min(this.options.maxRetryMs, this.options.minRetryMs * 2 ** (t.failures - 1));
        t.retryAt = Date.now() + wait;
        this.metrics.errors.inc(labels);
        const reason = taskFailureReason(e);
        this.log.warn(
          { connector: spec.id, task: t.lease.task, err: e, retryInMs: wait },
          'connector task failed',
        );
        await this.store.setState(t.lease, 'FAILED', reason.slice(0, 1000)).catch(() => {});
      },
    );
    t.running = { abort, done, generation: spec.generation };
  }
}
