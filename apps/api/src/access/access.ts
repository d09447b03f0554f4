import type { Action } from '@fjord/contracts';
import type { PrismaClient } from '@fjord/db';
import type { Principal } from '../auth/principal.js';
import { ApiProblem, notFound } from '../problem.js';
import { evaluate, type PolicyStatement } from './policyEvaluation.js';

/** The noun a 404 uses for each resource kind (the first segment of a resource string). */
const KIND_NOUNS: Record<string, string> = {
  subaccount: 'sub-account',
  apikey: 'API key',
  channel: 'notification channel',
};

export function kindOf(resource: string): string {
  const first = resource.split('/')[0]!;
  return KIND_NOUNS[first] ?? first;
}

/**
 * Decides whether a principal may perform an action on a resource of an account. Resources of other
 * tenants answer 404 (their existence is not revealed) unless a collaborator grant covers them;
 * a sub-account whose policies do not allow the action gets 403.
 */
export class Access {
  constructor(private readonly prisma: PrismaClient) {}

  requireOperator(p: Principal): void {
    if (p.kind !== 'operator') throw new ApiProblem('forbidden', 'this call is for the operator role');
  }

  /** Account id whose resources a list call shows: the caller's own, or another via a grant. */
  async listScope(
    p: Principal,
    action: Action,
    resource: string,
    requested?: string,
  ): Promise<string | undefined> {
    if (p.kind === 'operator') return requested;
    const accountId = requested ?? p.accountId;
    await this.require(p, action, accountId, resource);
    return accountId;
  }

  /**
   * `hiddenAs` is the kind a 404 names when the owner is another tenant: it must be the kind the
   * route answers for a missing id, so that both answers are the same (by default the resource's
   * kind, e.g. `instance` for `instance/ins-…/topic/x`).
   */
  async require(
    p: Principal,
    action: Action,
    ownerAccountId: string | null,
    resource: string,
    hiddenAs: string = kindOf(resource),
  ): Promise<void> {
    if (p.kind === 'operator') return;
    if (ownerAccountId !== null && ownerAccountId !== p.accountId) {
      if (p.kind === 'root' && (await this.grantAllows(ownerAccountId, p.accountId, action, resource)))
        return;
      throw notFound(hiddenAs);
    }
    if (p.kind === 'root') return;
    const decision = evaluate(await this.policiesOf(p.id), action, resource);
    if (decision !== 'allow')
      throw new ApiProblem(
        'forbidden',
        `${action} on ${resource} is ${decision === 'explicit-deny' ? 'explicitly denied' : 'not allowed'} by the policies of ${p.id}`,
        { refused: { action, resource } },
      );
  }

  private async policiesOf(subAccountId: string): Promise<PolicyStatement[]> {
    const rows = await this.prisma.policyAttachment.findMany({
      where: { subAccountId },
      select: { policy: { select: { effect: true, actions: true, resources: true } } },
    });
    return rows.map((r) => ({
      effect: r.policy.effect === 'DENY' ? 'deny' : 'allow',
      actions: r.policy.actions,
      resources: r.policy.resources,
    }));
  }

  private async grantAllows(
    owner: string,
    grantee: string,
    action: string,
    resource: string,
  ): Promise<boolean> {
    const grants = await this.prisma.collaboratorGrant.findMany({
      where: { ownerAccountId: owner, granteeAccountId: grantee },
      select: { actions: true, resources: true },
    });
    return (
      evaluate(
        grants.map((g) => ({ effect: 'allow' as const, ...g })),
        action,
        resource,
      ) === 'allow'
    );
  }
}
