import { OPERATIONS_QUEUE } from '@fjord/contracts';
import { createPrismaClient, type PrismaClient } from '@fjord/db';
import { createTestDatabase } from '@fjord/test-support/database';
import { REDIS_URL, testQueuePrefix } from '@fjord/test-support/redis';
import { QueueEvents } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationWorker } from '../src/OperationWorker.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let prisma: PrismaClient;
const queue = testQueuePrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrismaClient(db.url);
}, 60_000);
afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
  await queue.cleanup();
});

describe('an operation job whose lock lapsed while its run goes on', () => {
  it('is delivered again and joins the run under way instead of starting a second one', async () => {
    const id = 'op-redelivered';
    const events = new QueueEvents(OPERATIONS_QUEUE, {
      connection: { url: REDIS_URL },
      prefix: queue.prefix,
    });
    await events.waitUntilReady();
    const completed = new Promise<void>((r) => {
      events.on('completed', ({ jobId }) => {
        if (jobId === id) r();
      });
    });
    // The first run goes on until the second delivery has been handled: joined (the worker says
    // so in its log) or run a second time.
    let secondHandled: () => void = () => {};
    const handled = new Promise<void>((r) => {
      secondHandled = r;
    });
    const log = pino(
      { level: 'warn' },
      {
        write(line: string) {
          if (line.includes('joining it')) secondHandled();
        },
      },
    );
    const runs: string[] = [];
    const runner = {
      async run(operationId: string) {
        runs.push(operationId);
        if (runs.length > 1) return secondHandled();
        // Holds the event loop well past the lock, as a busy host does: the lock cannot be renewed
        // and BullMQ's stall check hands the job back to this same worker.
        const busyUntil = Date.now() + 2_000;
        while (Date.now() < busyUntil) {}
        await handled;
      },
    };
    const worker = new OperationWorker(prisma, runner, log, {
      redisUrl: REDIS_URL,
      prefix: queue.prefix,
      concurrency: 4,
      reconcileEveryMs: 600_000,
      lockMs: 500,
    });
    try {
      await worker.enqueue(id);
      await completed;
      expect(runs).toEqual([id]);
    } finally {
      await worker.close();
      await events.close();
    }
  }, 60_000);
});
