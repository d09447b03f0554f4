import { hasAnonymousRoute, VPC_PLAINTEXT_GRANTS } from '@fjord/contracts';
import { type FlowContext, withInstanceAdmins } from '../context.js';
import { loadInstance, routesOf } from './brokers.js';

/**
 * Grants `User:ANONYMOUS` what a PLAINTEXT VPC route's clients may do while the instance has such a
 * route, and takes the grants away once it has none (ANONYMOUS is no super user: ADR 0012). Both
 * are idempotent: Kafka ignores an ACL created twice and a delete that matches nothing.
 */
export async function syncAnonymousGrants(ctx: FlowContext): Promise<void> {
  const ins = await loadInstance(ctx);
  const grant = hasAnonymousRoute(routesOf(ins));
  await withInstanceAdmins(ctx, ins.id, ins.brokers, async (admins) => {
    for (const admin of admins)
      for (const acl of VPC_PLAINTEXT_GRANTS) await (grant ? admin.createAcl(acl) : admin.deleteAcl(acl));
  });
}
