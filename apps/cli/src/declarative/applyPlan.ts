import { randomUUID } from 'node:crypto';
import { CONNECTOR_DEALING_FIELDS } from '@fjord/contracts';
import { ApiError, type FjordClient, must } from '../apiClient.js';
import type { ObservedState } from './observedState.js';
import type { Plan, PlannedAction } from './planner.js';

/**
 * The apply shell: runs a plan's actions against the API, each after the actions it depends on,
 * independent ones side by side. Every POST carries an Idempotency-Key (kept across its retries),
 * every change of a versioned resource If-Match with the ETag the plan saw, and every operation is
 * waited on until it succeeds or fails. The first failure stops new actions; it is thrown once
 * the running ones end.
 */
export interface ApplyOptions {
  readonly concurrency?: number;
  readonly log?: (line: string) => void;
  /** How often operations are polled. */
  readonly pollMs?: number;
}

/** An If-Match that no longer matched: someone changed the resource since it was planned. */
export class StalePlanError extends Error {
  constructor(
    readonly address: string,
    readonly refusal: ApiError,
  ) {
    super(`${address}: changed since it was planned (412 ${String(refusal.problem.detail ?? '')})`.trim());
  }
}

const TASKS_STOP_DEADLINE_MS = 10 * 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface OperationRef {
  id: string;
}

class Executor {
  private readonly instanceIds = new Map<string, string>();
  private readonly policyIds = new Map<string, string>();
  private readonly runId = randomUUID();

  constructor(
    private readonly api: FjordClient,
    observed: ObservedState,
    private readonly opts: ApplyOptions,
  ) {
    for (const i of observed.instances) if (i.status !== 'deleting') this.instanceIds.set(i.name, i.id);
    for (const p of observed.policies) this.policyIds.set(p.name, p.id);
  }

  private idempotencyKey(address: string, step: string): string {
    return `fjord-apply-${this.runId}-${address}-${step}`.slice(0, 255);
  }

  /**
   * One call, retried while the API asks to wait (429/503 with Retry-After, an Idempotency-Key
   * still running) or another operation holds the resource (409 operation_in_progress: wait for it).
   */
  private async call<T>(
    what: string,
    send: () => Promise<{ data?: T; error?: unknown; response: Response }>,
  ) {
    for (;;) {
      try {
        return await must(what, send());
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        if (e.status === 429 || e.status === 503 || e.code === 'idempotency_in_progress') {
          await sleep(1000);
          continue;
        }
        if (e.code === 'operation_in_progress' && typeof e.problem.operationId === 'string') {
          await this.settle(e.problem.operationId);
          continue;
        }
        throw e;
      }
    }
  }

  /** Waits until the operation ends, whatever its outcome. */
  private async settle(
    operationId: string,
  ): Promise<{ status: string; error: { code: string; message: string } | null }> {
    for (;;) {
      const { data } = await must(
        `operation ${operationId}`,
        this.api.GET('/v1/operations/{operationId}', { params: { path: { operationId } } }),
      );
      if (data.status === 'succeeded' || data.status === 'failed') return data;
      await sleep(this.opts.pollMs ?? 300);
    }
  }

  private async wait(address: string, op: OperationRef | undefined): Promise<void> {
    if (!op) return;
    const done = await this.settle(op.id);
    if (done.status === 'failed')
      throw new Error(
        `${address}: operation ${op.id} failed: ${done.error?.code ?? ''} ${done.error?.message ?? ''}`,
      );
  }

  private instanceId(name: string): string {
    const id = this.instanceIds.get(name);
    if (!id) throw new Error(`instance ${name} does not exist`);
    return id;
  }

  private policyId(name: string): string {
    const id = this.policyIds.get(name);
    if (!id) throw new Error(`policy ${name} does not exist`);
    return id;
  }

  /** The instance's current ETag after steps of this action changed it. */
  private async instanceEtag(id: string): Promise<string> {
    const { response } = await this.call(`get instance ${id}`, () =>
      this.api.GET('/v1/instances/{instanceId}', { params: { path: { instanceId: id } } }),
    );
    return response.headers.get('etag') ?? '*';
  }

  async run(a: PlannedAction): Promise<void> {
    try {
      await this.dispatch(a);
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) throw new StalePlanError(a.address, e);
      throw e;
    }
  }

  private async dispatch(a: PlannedAction): Promise<void> {
    const t = a.target;
    const key = (step: string) => this.idempotencyKey(a.address, step);
    switch (t.type) {
      case 'instance': {
        if (a.kind === 'delete' || a.kind === 'replace') {
          const id = this.instanceId(t.name);
          const { data } = await this.call(`delete ${a.address}`, () =>
            this.api.DELETE('/v1/instances/{instanceId}', {
              params: { path: { instanceId: id }, header: { 'if-match': t.observed!.etag } },
            }),
          );
          await this.wait(a.address, data.operation);
          this.instanceIds.delete(t.name);
        }
        if (a.kind === 'create' || a.kind === 'replace') {
          const d = t.desired!;
          const { data } = await this.call(`create ${a.address}`, () =>
            this.api.POST('/v1/instances', {
              params: { header: { 'Idempotency-Key': key('create') } },
              body: {
                name: d.name,
                zones: d.zones,
                ...(d.brokerCount !== undefined ? { brokerCount: d.brokerCount } : {}),
                ...(d.spec ? { spec: d.spec } : {}),
                ...(d.defaultReplicationFactor !== undefined
                  ? { defaultReplicationFactor: d.defaultReplicationFactor }
                  : {}),
                ...(d.kafkaVersion ? { kafkaVersion: d.kafkaVersion } : {}),
                ...(d.accessRoutes ? { accessRoutes: d.accessRoutes } : {}),
                ...(d.deletionProtection !== undefined ? { deletionProtection: d.deletionProtection } : {}),
              } as never,
            }),
          );
          this.instanceIds.set(d.name, data.instance.id);
          await this.wait(a.address, data.operation);
        }
        if (a.kind === 'update') await this.updateInstance(a);
        return;
      }
      case 'topic': {
        const instanceId = this.instanceId(t.instance);
        const name = (t.desired ?? t.observed)!.name;
        if (a.kind === 'delete' || a.kind === 'replace') {
          const { data } = await this.call(`delete ${a.address}`, () =>
            this.api.DELETE('/v1/instances/{instanceId}/topics/{topic}', {
              params: { path: { instanceId, topic: name } },
            }),
          );
          await this.wait(a.address, data.operation);
        }
        if (a.kind === 'create' || a.kind === 'replace') {
          const d = t.desired!;
          const { data } = await this.call(`create ${a.address}`, () =>
            this.api.POST('/v1/instances/{instanceId}/topics', {
              params: { path: { instanceId }, header: { 'Idempotency-Key': key('create') } },
              body: {
                name,
                ...(d.partitions !== undefined ? { partitions: d.partitions } : {}),
                ...(d.replicationFactor !== undefined ? { replicationFactor: d.replicationFactor } : {}),
                ...(d.configs ? { configs: d.configs } : {}),
              } as never,
            }),
          );
          await this.wait(a.address, data.operation);
        }
        if (a.kind === 'update') {
          const d = t.desired!;
          const partitions = a.changes.some((c) => c.path === 'partitions') ? d.partitions : undefined;
          const configs = Object.fromEntries(
            a.changes
              .filter((c) => c.path.startsWith('configs.'))
              .map((c) => [c.path.slice(8), c.to as string | null]),
          );
          const { data } = await this.call(`update ${a.address}`, () =>
            this.api.PATCH('/v1/instances/{instanceId}/topics/{topic}', {
              params: { path: { instanceId, topic: name } },
              body: {
                ...(partitions !== undefined ? { partitions } : {}),
                ...(Object.keys(configs).length > 0 ? { configs } : {}),
              },
            }),
          );
          await this.wait(a.address, 'operation' in data ? (data.operation as OperationRef) : undefined);
        }
        return;
      }
      case 'user': {
        const instanceId = this.instanceId(t.instance);
        if (a.kind === 'delete') {
          const { data } = await this.call(`delete ${a.address}`, () =>
            this.api.DELETE('/v1/instances/{instanceId}/users/{user}', {
              params: { path: { instanceId, user: t.observed!.name } },
            }),
          );
          return this.wait(a.address, data.operation);
        }
        const d = t.desired!;
        const { data } = await this.call(`${a.kind} ${a.address}`, () =>
          this.api.POST('/v1/instances/{instanceId}/users', {
            params: { path: { instanceId }, header: { 'Idempotency-Key': key(a.kind) } },
            body: { name: d.name, password: d.password, ...(d.mechanism ? { mechanism: d.mechanism } : {}) },
          }),
        );
        return this.wait(a.address, data.operation);
      }
      case 'acl': {
        const instanceId = this.instanceId(t.instance);
        const { data } =
          a.kind === 'delete'
            ? await this.call(`delete ${a.address}`, () =>
                this.api.POST('/v1/instances/{instanceId}/acls/delete', {
                  params: { path: { instanceId }, header: { 'Idempotency-Key': key('delete') } },
                  body: t.binding,
                }),
              )
            : await this.call(`create ${a.address}`, () =>
                this.api.POST('/v1/instances/{instanceId}/acls', {
                  params: { path: { instanceId }, header: { 'Idempotency-Key': key('create') } },
                  body: t.binding,
                }),
              );
        return this.wait(a.address, data.operation);
      }
      case 'alarmPolicy': {
        const instanceId = this.instanceId(t.instance);
        if (a.kind === 'delete' || a.kind === 'replace')
          await this.call(`delete ${a.address}`, () =>
            this.api.DELETE('/v1/instances/{instanceId}/alarm-policies/{alarmPolicyId}', {
              params: { path: { instanceId, alarmPolicyId: t.observed!.id } },
            }),
          );
        if (a.kind === 'create' || a.kind === 'replace')
          await this.call(`create ${a.address}`, () =>
            this.api.POST('/v1/instances/{instanceId}/alarm-policies', {
              params: { path: { instanceId }, header: { 'Idempotency-Key': key('create') } },
              body: t.desired as never,
            }),
          );
        if (a.kind === 'update')
          await this.call(`update ${a.address}`, () =>
            this.api.PATCH('/v1/instances/{instanceId}/alarm-policies/{alarmPolicyId}', {
              params: {
                path: { instanceId, alarmPolicyId: t.observed!.id },
                header: { 'if-match': t.observed!.etag },
              },
              body: Object.fromEntries(a.changes.map((c) => [c.path, c.to])) as never,
            }),
          );
        return;
      }
      case 'connector':
        return this.applyConnector(a);
      case 'policy': {
        if (a.kind === 'delete' || a.kind === 'replace') {
          const policyId = t.observed!.id;
          await this.call(`delete ${a.address}`, () =>
            this.api.DELETE('/v1/policies/{policyId}', { params: { path: { policyId } } }),
          );
          this.policyIds.delete(t.observed!.name);
        }
        if (a.kind === 'create' || a.kind === 'replace') {
          const { data } = await this.call(`create ${a.address}`, () =>
            this.api.POST('/v1/policies', {
              params: { header: { 'Idempotency-Key': key('create') } },
              body: t.desired as never,
            }),
          );
          this.policyIds.set(data.name, data.id);
        }
        return;
      }
      case 'subAccount': {
        if (a.kind === 'delete') {
          const subAccountId = t.observed!.id;
          await this.call(`delete ${a.address}`, () =>
            this.api.DELETE('/v1/sub-accounts/{subAccountId}', { params: { path: { subAccountId } } }),
          );
          return;
        }
        let subAccountId = t.observed?.id;
        if (a.kind === 'create') {
          const { data } = await this.call(`create ${a.address}`, () =>
            this.api.POST('/v1/sub-accounts', {
              params: { header: { 'Idempotency-Key': key('create') } },
              body: { name: t.desired!.name },
            }),
          );
          subAccountId = data.id;
        }
        for (const p of t.attach)
          await this.call(`attach policy ${p} to ${a.address}`, () =>
            this.api.PUT('/v1/sub-accounts/{subAccountId}/policies/{policyId}', {
              params: { path: { subAccountId: subAccountId!, policyId: this.policyId(p) } },
            }),
          );
        for (const p of t.detach)
          await this.call(`detach policy ${p} from ${a.address}`, () =>
            this.api.DELETE('/v1/sub-accounts/{subAccountId}/policies/{policyId}', {
              params: { path: { subAccountId: subAccountId!, policyId: this.policyId(p) } },
            }),
          );
        return;
      }
    }
  }

  /**
   * Connectors change instantly (no operations). A change of tasksMax or of the topics chosen needs
   * the connector paused with its tasks stopped (the API refuses it otherwise): a running connector
   * is paused, waited on, changed and resumed. Every step is guarded by the ETag it follows.
   */
  private async applyConnector(a: PlannedAction): Promise<void> {
    if (a.target.type !== 'connector') return;
    const t = a.target;
    const instanceId = this.instanceId(t.instance);
    const path = (connectorId: string) => ({ instanceId, connectorId });
    if (a.kind === 'delete' || a.kind === 'replace') {
      const o = t.observed!;
      await this.call(`delete ${a.address}`, () =>
        this.api.DELETE('/v1/instances/{instanceId}/connectors/{connectorId}', {
          params: { path: path(o.id), header: { 'if-match': o.etag } },
        }),
      );
    }
    if (a.kind === 'delete') return;
    const d = t.desired!;
    if (a.kind === 'create' || a.kind === 'replace') {
      const { data, response } = await this.call(`create ${a.address}`, () =>
        this.api.POST('/v1/instances/{instanceId}/connectors', {
          params: {
            path: { instanceId },
            header: { 'Idempotency-Key': this.idempotencyKey(a.address, 'create') },
          },
          body: {
            name: d.name,
            type: d.type,
            ...(d.tasksMax !== undefined ? { tasksMax: d.tasksMax } : {}),
            config: d.config,
            secrets: d.secrets,
          } as never,
        }),
      );
      if (d.desiredState === 'PAUSED')
        await this.connectorTransition(
          a.address,
          path(data.id),
          'pause',
          response.headers.get('etag') ?? '*',
        );
      return;
    }
    const o = t.observed!;
    const changed = (p: string) => a.changes.some((c) => c.path === p || c.path.startsWith(`${p}.`));
    const redeals = changed('tasksMax') || CONNECTOR_DEALING_FIELDS.some((f) => changed(`config.${f}`));
    let etag = o.etag;
    let running = o.desiredState === 'RUNNING';
    if (changed('config') || changed('tasksMax') || changed('secrets')) {
      if (redeals && running) {
        etag = await this.connectorTransition(a.address, path(o.id), 'pause', etag);
        running = false;
        await this.tasksStopped(a.address, path(o.id));
      }
      const { response } = await this.call(`update ${a.address}`, () =>
        this.api.PATCH('/v1/instances/{instanceId}/connectors/{connectorId}', {
          params: { path: path(o.id), header: { 'if-match': etag } },
          body: {
            ...(changed('tasksMax') ? { tasksMax: d.tasksMax! } : {}),
            ...(changed('config') ? { config: d.config as Record<string, unknown> } : {}),
            ...(changed('secrets') ? { secrets: d.secrets as Record<string, unknown> } : {}),
          },
        }),
      );
      etag = response.headers.get('etag') ?? etag;
    }
    const wantRunning = (d.desiredState ?? o.desiredState) === 'RUNNING';
    if (wantRunning !== running)
      await this.connectorTransition(a.address, path(o.id), wantRunning ? 'resume' : 'pause', etag);
  }

  private async connectorTransition(
    address: string,
    path: { instanceId: string; connectorId: string },
    verb: 'pause' | 'resume',
    etag: string,
  ): Promise<string> {
    const { response } = await this.call(`${verb} ${address}`, () =>
      this.api.POST(
        `/v1/instances/{instanceId}/connectors/{connectorId}/${verb}` as '/v1/instances/{instanceId}/connectors/{connectorId}/pause',
        {
          params: { path, header: { 'if-match': etag } },
        },
      ),
    );
    return response.headers.get('etag') ?? '*';
  }

  /** Waits until no task of the paused connector runs (a connect worker reports PAUSED once it stopped). */
  private async tasksStopped(
    address: string,
    path: { instanceId: string; connectorId: string },
  ): Promise<void> {
    // A worker that died holding a task leaves it RUNNING until its lease lapses and another takes
    // it: minutes at worst, so this only catches a connector no worker will ever stop.
    const deadline = Date.now() + TASKS_STOP_DEADLINE_MS;
    for (;;) {
      const { data } = await this.call(`get ${address}`, () =>
        this.api.GET('/v1/instances/{instanceId}/connectors/{connectorId}', { params: { path } }),
      );
      const busy = data.tasks.filter((x) => x.state !== 'PAUSED' && x.state !== 'UNASSIGNED');
      if (busy.length === 0) return;
      if (Date.now() > deadline)
        throw new Error(
          `${address}: paused, but tasks ${busy.map((x) => x.task).join(', ')} did not stop within ${TASKS_STOP_DEADLINE_MS / 60_000} minutes`,
        );
      await sleep(this.opts.pollMs ?? 300);
    }
  }

  /** Instant fields (PATCH), then size and spec (resize), then routes: each guarded by the ETag. */
  private async updateInstance(a: PlannedAction): Promise<void> {
    if (a.target.type !== 'instance') return;
    const d = a.target.desired!;
    const id = this.instanceId(d.name);
    let etag = a.target.observed!.etag;
    const changed = (p: string) => a.changes.some((c) => c.path === p || c.path.startsWith(`${p}.`));
    if (changed('deletionProtection')) {
      const { response } = await this.call(`update ${a.address}`, () =>
        this.api.PATCH('/v1/instances/{instanceId}', {
          params: { path: { instanceId: id }, header: { 'if-match': etag } },
          body: { deletionProtection: d.deletionProtection! },
        }),
      );
      etag = response.headers.get('etag') ?? etag;
    }
    if (changed('brokerCount') || changed('spec')) {
      const spec = Object.fromEntries(
        a.changes.filter((c) => c.path.startsWith('spec.')).map((c) => [c.path.slice(5), c.to as number]),
      );
      const { data } = await this.call(`resize ${a.address}`, () =>
        this.api.POST('/v1/instances/{instanceId}/resize', {
          params: {
            path: { instanceId: id },
            header: { 'if-match': etag, 'Idempotency-Key': this.idempotencyKey(a.address, 'resize') },
          },
          body: {
            ...(changed('brokerCount') ? { brokerCount: d.brokerCount! } : {}),
            ...(Object.keys(spec).length > 0 ? { spec } : {}),
          },
        }),
      );
      if ('operation' in data) {
        await this.wait(a.address, data.operation as OperationRef);
        etag = await this.instanceEtag(id);
      }
    }
    for (const c of a.changes.filter((x) => x.path.startsWith('accessRoutes.'))) {
      const type = c.path.slice('accessRoutes.'.length) as 'internal' | 'public';
      const { data } = await this.call(`route ${type} of ${a.address}`, () =>
        c.to === null
          ? this.api.DELETE(
              `/v1/instances/{instanceId}/routes/${type}` as '/v1/instances/{instanceId}/routes/internal',
              {
                params: { path: { instanceId: id }, header: { 'if-match': etag } },
              },
            )
          : this.api.PUT(
              `/v1/instances/{instanceId}/routes/${type}` as '/v1/instances/{instanceId}/routes/internal',
              {
                params: { path: { instanceId: id }, header: { 'if-match': etag } },
                body: (({ type: _, ...rest }) => rest)(c.to as { type: string }) as never,
              },
            ),
      );
      if (data && typeof data === 'object' && 'operation' in data)
        await this.wait(a.address, data.operation as OperationRef);
      etag = await this.instanceEtag(id);
    }
  }
}

export interface ApplyResult {
  readonly applied: readonly string[];
}

/** Runs the plan (see the module comment). `observed` is what the plan was made from. */
export async function applyPlan(
  api: FjordClient,
  observed: ObservedState,
  plan: Plan,
  opts: ApplyOptions = {},
): Promise<ApplyResult> {
  const exec = new Executor(api, observed, opts);
  const log = opts.log ?? (() => {});
  const inPlan = new Set(plan.actions.map((a) => a.address));
  const done = new Set<string>();
  const waiting = [...plan.actions];
  const running = new Map<string, Promise<void>>();
  let failure: unknown;
  while ((waiting.length > 0 && failure === undefined) || running.size > 0) {
    if (failure === undefined)
      for (let i = 0; i < waiting.length && running.size < (opts.concurrency ?? 8); ) {
        const a = waiting[i]!;
        if (!a.dependsOn.every((d) => done.has(d) || !inPlan.has(d))) {
          i++;
          continue;
        }
        waiting.splice(i, 1);
        log(`${a.address}: ${a.kind}…`);
        running.set(
          a.address,
          exec
            .run(a)
            .then(
              () => {
                done.add(a.address);
                log(`${a.address}: ${a.kind}d`);
              },
              (e: unknown) => {
                failure ??= e;
              },
            )
            .finally(() => running.delete(a.address)),
        );
      }
    if (running.size === 0) {
      if (failure === undefined && waiting.length > 0)
        failure = new Error(
          `not applied, their dependencies never finished: ${waiting.map((a) => a.address).join(', ')}`,
        );
      break;
    }
    await Promise.race(running.values());
  }
  if (failure !== undefined) throw failure;
  return { applied: [...done] };
}
