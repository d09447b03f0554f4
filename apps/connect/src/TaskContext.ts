import type { AllowedNetworks } from '@fjord/egress';
import type { Logger } from 'pino';
import type { ConnectMetrics } from './ConnectMetrics.js';
import type { ConnectorSpec, LeaseStore, TaskLease } from './LeaseStore.js';

/** What a running task is given; it runs until `signal` aborts, and throws when it fails. */
export interface TaskContext {
  readonly lease: TaskLease;
  readonly connector: ConnectorSpec;
  readonly store: LeaseStore;
  readonly adminSecret: string;
  /** Where the connector's own endpoints may be (the egress rules; docs/adr/0022). */
  readonly allowedNetworks: AllowedNetworks;
  readonly metrics: ConnectMetrics;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Called once the task has done real work (reached its source and sink): it shows RUNNING. */
  healthy(): void;
}

export type TaskRun = (ctx: TaskContext) => Promise<void>;
