import { AclInput, GroupResetOffsetsInput, UserCreateInput, UserDeleteInput } from '@fjord/contracts';
import {
  type AclSpec,
  AdminError,
  instanceAdminCredential,
  kafkaErrorType,
  ScramAdmin,
  unseal,
} from '@fjord/fleet';
import { type FlowContext, operationInput, PermanentError, portsOf, withInstanceAdmins } from '../context.js';
import { loadInstance } from './brokers.js';

function permanentIfUnsupported(e: unknown): never {
  if (e instanceof AdminError && kafkaErrorType(e) === 'UNSUPPORTED_VERSION')
    throw new PermanentError('not_supported_by_brokers', e.message);
  throw e;
}

/** SCRAM admin clients for every copy of the metadata (each standalone broker, or one for a cluster). */
async function scramAdmins(ctx: FlowContext): Promise<ScramAdmin[]> {
  const ins = await loadInstance(ctx);
  const brokers = ins.brokers.filter((b) => portsOf(b).CONTROL).sort((a, b) => a.brokerId - b.brokerId);
  const perBroker = await withInstanceAdmins(ctx, ins.id, brokers, async (admins) => admins.length > 1);
  const credential = instanceAdminCredential(ins.id, ctx.settings.adminSecret);
  return (perBroker ? brokers : brokers.slice(0, 1)).map(
    (b) => new ScramAdmin(b.host, portsOf(b).CONTROL!, credential),
  );
}

export async function createUser(ctx: FlowContext): Promise<void> {
  const input = operationInput(ctx, UserCreateInput);
  if (input.passwordSealed) {
    const password = unseal(input.passwordSealed, ctx.settings.adminSecret);
    try {
      for (const a of await scramAdmins(ctx)) await a.upsert(input.name, input.mechanism, password);
    } catch (e) {
      permanentIfUnsupported(e);
    }
  }
  // The password is not kept once the brokers have the salted credential.
  await ctx.prisma.operation.update({
    where: { id: ctx.op.id },
    data: { input: { name: input.name, mechanism: input.mechanism } },
  });
}

export async function deleteUser(ctx: FlowContext): Promise<void> {
  const input = operationInput(ctx, UserDeleteInput);
  try {
    for (const a of await scramAdmins(ctx)) for (const m of input.mechanisms) await a.delete(input.name, m);
  } catch (e) {
    permanentIfUnsupported(e);
  }
}

async function onAdmins(ctx: FlowContext, fn: Parameters<typeof withInstanceAdmins>[3]): Promise<void> {
  const ins = await loadInstance(ctx);
  try {
    await withInstanceAdmins(ctx, ins.id, ins.brokers, fn);
  } catch (e) {
    permanentIfUnsupported(e);
  }
}

export async function createAcl(ctx: FlowContext): Promise<void> {
  const acl: AclSpec = operationInput(ctx, AclInput);
  await onAdmins(ctx, async (admins) => {
    for (const a of admins) await a.createAcl(acl);
  });
}

export async function deleteAcl(ctx: FlowContext): Promise<void> {
  const acl: AclSpec = operationInput(ctx, AclInput);
  await onAdmins(ctx, async (admins) => {
    for (const a of admins) await a.deleteAcl(acl);
  });
}

export async function resetGroupOffsets(ctx: FlowContext): Promise<void> {
  const input = operationInput(ctx, GroupResetOffsetsInput);
  const to =
    input.to === 'timestamp'
      ? { kind: 'timestamp' as const, timestamp: input.timestamp! }
      : input.to === 'offset'
        ? { kind: 'offset' as const, offset: input.offset! }
        : { kind: input.to };
  await onAdmins(ctx, async (admins) => {
    for (const a of admins) {
      const g = await a.describeGroup(input.groupId);
      if (g && g.members.length > 0)
        throw new PermanentError('group_not_empty', `group ${input.groupId} has active members`);
      await a.resetGroupOffsets(input.groupId, input.topic, to);
    }
  });
}
