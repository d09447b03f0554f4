import type { FjordClient } from '../apiClient.js';
import { applyPlan, StalePlanError } from './applyPlan.js';
import { checkSecrets } from './checkSecrets.js';
import type { DesiredState } from './desiredState.js';
import { importedYaml } from './importState.js';
import { observe } from './observe.js';
import type { ObservedState } from './observedState.js';
import { type Plan, plan, planDestroy } from './planner.js';
import { planText } from './planText.js';

/**
 * `fjord plan | apply | destroy | import`: observe, plan, print, apply. Exit codes are Terraform's:
 * plan --detailed-exitcode 0 = no changes, 2 = changes, 1 = error.
 */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export interface DeclarativeOptions {
  readonly prune?: boolean;
  readonly detailedExitCode?: boolean;
  readonly concurrency?: number;
}

const scopeOf = (desired: DesiredState, prune: boolean) => ({
  instances: prune ? ('all' as const) : new Set(desired.instances.map((i) => i.name)),
});

/** The live state a plan of `desired` compares with, write-only secrets checked against the file's. */
export async function observeFor(
  api: FjordClient,
  desired: DesiredState,
  prune: boolean,
): Promise<ObservedState> {
  return checkSecrets(api, desired, await observe(api, scopeOf(desired, prune)));
}

export async function runPlan(
  api: FjordClient,
  desired: DesiredState,
  opts: DeclarativeOptions,
  io: Output,
): Promise<number> {
  const p = plan(desired, await observeFor(api, desired, opts.prune ?? false), {
    prune: opts.prune ?? false,
  });
  io.out(planText(p));
  return opts.detailedExitCode && p.actions.length > 0 ? 2 : 0;
}

/**
 * Applies `desired`. With `planned` (a plan made earlier and the state it saw) that plan is
 * applied as it is; a 412 on the way means someone changed a resource since: apply stops, says
 * so, plans again from the live state and shows that plan (exit 1: nothing is overwritten blindly).
 */
export async function runApply(
  api: FjordClient,
  desired: DesiredState,
  opts: DeclarativeOptions,
  io: Output,
  planned?: { plan: Plan; observed: ObservedState },
  confirm: () => Promise<boolean> = async () => true,
): Promise<number> {
  const prune = opts.prune ?? false;
  const observed = planned?.observed ?? (await observeFor(api, desired, prune));
  const p = planned?.plan ?? plan(desired, observed, { prune });
  io.out(planText(p));
  if (p.actions.length === 0) return 0;
  if (!(await confirm())) {
    io.err('fjord: not applied');
    return 1;
  }
  try {
    await applyPlan(api, observed, p, {
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
      log: (line) => io.err(line),
    });
  } catch (e) {
    if (!(e instanceof StalePlanError)) throw e;
    io.err(`fjord: ${e.message}`);
    io.err('fjord: planning again from the live state:');
    const again = plan(desired, await observeFor(api, desired, prune), { prune });
    io.out(planText(again));
    return 1;
  }
  io.out(`Apply complete: ${p.actions.length} actions.`);
  return 0;
}

export async function runDestroy(
  api: FjordClient,
  desired: DesiredState,
  opts: DeclarativeOptions,
  io: Output,
  confirm: () => Promise<boolean> = async () => true,
): Promise<number> {
  // Deleting needs no secrets checked.
  const observed = await observe(api, scopeOf(desired, false));
  const p = planDestroy(desired, observed);
  io.out(planText(p));
  if (p.actions.length === 0) return 0;
  if (!(await confirm())) {
    io.err('fjord: not destroyed');
    return 1;
  }
  await applyPlan(api, observed, p, {
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    log: (line) => io.err(line),
  });
  io.out(`Destroy complete: ${p.actions.length} resources deleted.`);
  return 0;
}

export async function runImport(api: FjordClient, instances: readonly string[], io: Output): Promise<number> {
  const only = instances.length > 0 ? new Set(instances) : undefined;
  const observed = await observe(api, { instances: only ?? 'all' });
  io.out(importedYaml(observed, only));
  return 0;
}
