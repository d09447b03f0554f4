import { OPERATION_CANCELLED } from '@fjord/contracts';
import type { Prisma, PrismaClient } from '@fjord/db';
import { PermanentError } from './context.js';

/** Whether an operation's recorded error is a cancellation (see OPERATION_CANCELLED). */
export const cancelledBy = (error: unknown) =>
  (error as { code?: string } | null)?.code === OPERATION_CANCELLED;

/** Whether the operation was cancelled; then it must not go on. */
export async function isCancelled(prisma: PrismaClient, operationId: string): Promise<boolean> {
  const op = await prisma.operation.findUnique({ where: { id: operationId }, select: { error: true } });
  return cancelledBy(op?.error);
}

/** Progress key a cancelled operation's worker sets once it has stopped (the delete waits for it). */
export const STOPPED_STEP = 'stopped';

/** Records that the worker of a cancelled operation has stopped: it starts nothing more. */
export async function recordStopped(prisma: PrismaClient, operationId: string): Promise<void> {
  await prisma.$executeRaw`UPDATE "Operation" SET progress = progress || ${JSON.stringify({ [STOPPED_STEP]: true })}::jsonb WHERE id = ${operationId}`;
}

/**
 * Progress of one operation, persisted in Operation.progress after every step so a restarted worker
 * continues where the killed one stopped. `FJORD_FAULT_KILL=after:<step>` (or `before:`) kills the
 * process at that point: the fault tests use it to prove every step is resumable.
 */
export class Steps {
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly operationId: string,
    readonly progress: Record<string, Prisma.InputJsonValue>,
  ) {}

  done(name: string): boolean {
    return this.progress[name] !== undefined;
  }

  /** Runs `fn` unless the step was recorded as done, then records it. */
  async once(name: string, fn: () => Promise<Prisma.InputJsonValue | undefined>): Promise<void> {
    if (this.done(name)) return;
    await this.run(name, fn);
  }

  /** Runs `fn` (it must be idempotent: it runs again after a crash) and records it. */
  async run(name: string, fn: () => Promise<Prisma.InputJsonValue | undefined>): Promise<void> {
    // A cancelled operation stops here, between steps, so what it started is whole and recorded.
    if (await isCancelled(this.prisma, this.operationId))
      throw new PermanentError(OPERATION_CANCELLED, `cancelled before step ${name}`);
    faultPoint(`before:${name}`);
    const value = (await fn()) ?? true;
    await this.record(name, value);
    faultPoint(`after:${name}`);
  }

  record(name: string, value: Prisma.InputJsonValue): Promise<void> {
    this.progress[name] = value;
    const write = this.writes.then(() =>
      this.prisma.operation.update({
        where: { id: this.operationId },
        data: { progress: { ...this.progress } },
      }),
    );
    this.writes = write.catch(() => {});
    return write.then(() => {});
  }
}

function faultPoint(point: string): void {
  const want = process.env.FJORD_FAULT_KILL;
  if (want && want === point) process.kill(process.pid, 'SIGKILL');
}
