import { newId, SYSTEM_ALARM_POLICIES } from '@fjord/contracts';
import type { Prisma } from '@fjord/db';

/** Gives a new instance the built-in alarm policies (in the transaction that creates it). */
export async function createSystemAlarmPolicies(
  tx: Prisma.TransactionClient,
  accountId: string,
  instanceId: string,
): Promise<void> {
  await tx.alarmPolicy.createMany({
    data: SYSTEM_ALARM_POLICIES.map((p) => ({
      ...p,
      id: newId('alarmPolicy'),
      accountId,
      instanceId,
      system: true,
    })),
  });
}
