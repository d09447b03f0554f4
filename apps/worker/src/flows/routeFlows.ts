import { RoutesInput, routeChangeNeedsRestart } from '@fjord/contracts';
import type { BrokerPlacement, Instance } from '@fjord/db';
import { dynamicRouteConfigs } from '../brokerSpec.js';
import {
  brokerConfigAdminOf,
  type FlowContext,
  operationInput,
  until,
  type WorkerSettings,
} from '../context.js';
import { syncAnonymousGrants } from './anonymousGrants.js';
import { loadInstance, routesOf, type SpecDeps, specFor, targetOf } from './brokers.js';
import { markRunning, rollBrokers } from './instanceFlows.js';

/**
 * Brings one running broker's routes up to date without a restart: its spec written again (new
 * certificate files, server.properties for the next start), then the allowlists and keystores it
 * serves set as its dynamic configs, and read back until it reports them.
 */
export async function applyRoutesLive(
  deps: SpecDeps & { readonly settings: Pick<WorkerSettings, 'readyTimeoutMs'> },
  ins: Instance,
  b: BrokerPlacement,
): Promise<void> {
  const spec = await specFor(deps, ins, b);
  await deps.fleet.ensureBroker(targetOf(b), spec);
  const { set, remove } = dynamicRouteConfigs(spec);
  const admin = brokerConfigAdminOf(deps, ins.id, b);
  await admin.set(b.brokerId, set);
  await admin.remove(b.brokerId, remove);
  await until(`broker ${b.brokerId} reporting its new routes`, deps.settings.readyTimeoutMs, async () => {
    const got = await admin.get(b.brokerId, Object.keys(set));
    return Object.entries(set).every(([k, v]) => got[k] === v);
  });
}

/**
 * `instance.routes`: records the routes, then applies them. Allowlist changes reach every broker
 * live; a route added or removed, or a protocol changed, rolls the brokers one at a time.
 */
export async function updateRoutes(ctx: FlowContext): Promise<void> {
  const { accessRoutes } = operationInput(ctx, RoutesInput);
  const before = await loadInstance(ctx);
  await ctx.steps.once('recorded', async () => {
    await ctx.prisma.instance.update({ where: { id: before.id }, data: { accessRoutes } });
    return routeChangeNeedsRestart(routesOf(before), accessRoutes) ? 'rolling' : 'live';
  });
  const rolling = ctx.steps.progress.recorded === 'rolling';
  // The grants follow the recorded routes: given before a PLAINTEXT route opens, taken when it goes.
  await ctx.steps.once('anonymous-grants', () => syncAnonymousGrants(ctx).then(() => true));
  if (rolling) await rollBrokers(ctx, (ins, b) => applyRoutesLive(ctx, ins, b));
  else {
    const ins = await loadInstance(ctx);
    for (const b of [...ins.brokers].sort((x, y) => x.brokerId - y.brokerId))
      await ctx.steps.once(`routes-broker-${b.brokerId}`, async () => {
        await applyRoutesLive(ctx, ins, b);
        return true;
      });
  }
  await markRunning(ctx);
}
