import {
  OPERATION_JOB_OPTIONS,
  OPERATIONS_QUEUE,
  type OperationJob,
  operationRetryDelayMs,
} from '@fjord/contracts';
import type { PrismaClient } from '@fjord/db';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { OperationRunner } from './OperationRunner.js';

export interface OperationWorkerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly concurrency: number;
  /** How often unfinished operations without a job are enqueued again. */
  readonly reconcileEveryMs: number;
  /** Job lock; a dead worker's job is taken over after about this long. */
  readonly lockMs?: number;
}

/** What the worker runs a job with (OperationRunner). */
export type OperationRun = Pick<OperationRunner, 'run'>;

/**
 * BullMQ consumer of operation jobs. A worker that dies holding a job loses its lock; BullMQ's
 * stall check hands the job to another worker (or this one after a restart), which resumes it.
 */
export class OperationWorker {
  /**
   * Runs under way in this process, by operation id. A busy process can miss renewing a job's
   * lock; the stall check then hands the job back, to this very process too. That delivery joins
   * the run under way instead of starting a second one: concurrent runs of one operation would
   * overwrite each other's progress and, each adding load, make more locks lapse (every lapse
   * another run, up to the concurrency), so that none of them finishes.
   */
  private readonly running = new Map<string, Promise<void>>();
  private readonly connection: Redis;
  private readonly queueConnection: Redis;
  private readonly worker: Worker<OperationJob>;
  private readonly queue: Queue<OperationJob>;
  private readonly reconciler: NodeJS.Timeout;

  constructor(
    private readonly prisma: PrismaClient,
    runner: OperationRun,
    private readonly log: Logger,
    o: OperationWorkerOptions,
  ) {
    this.connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
    this.queueConnection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
    this.connection.on('error', (err) => log.warn({ err: err.message }, 'redis'));
    this.queueConnection.on('error', () => {});
    this.queue = new Queue<OperationJob>(OPERATIONS_QUEUE, {
      connection: this.queueConnection,
      prefix: o.prefix,
    });
    this.queue.on('error', () => {});
    this.worker = new Worker<OperationJob>(
      OPERATIONS_QUEUE,
      (job: Job<OperationJob>) => {
        const id = job.data.operationId;
        const underWay = this.running.get(id);
        if (underWay) {
          log.warn({ operationId: id }, 'job delivered again while its run is under way: joining it');
          return underWay;
        }
        const attempts = job.opts.attempts ?? 1;
        const run = runner.run(id, job.attemptsMade + 1 >= attempts).finally(() => this.running.delete(id));
        this.running.set(id, run);
        return run;
      },
      {
        connection: this.connection,
        prefix: o.prefix,
        concurrency: o.concurrency,
        lockDuration: o.lockMs ?? 10_000,
        stalledInterval: Math.max(500, Math.floor((o.lockMs ?? 10_000) / 3)),
        maxStalledCount: 1000,
        settings: { backoffStrategy: (attemptsMade) => operationRetryDelayMs(attemptsMade) },
      },
    );
    this.worker.on('error', (err) => log.warn({ err: err.message }, 'worker'));
    this.reconciler = setInterval(() => void this.reconcile(), o.reconcileEveryMs);
    void this.reconcile();
  }

  /** Enqueues unfinished operations again (jobId = operation id, so an existing job is not doubled). */
  async reconcile(): Promise<void> {
    try {
      const open = await this.prisma.operation.findMany({
        where: { status: { in: ['PENDING', 'RUNNING'] }, updatedAt: { lt: new Date(Date.now() - 2000) } },
        select: { id: true },
        take: 500,
      });
      for (const o of open) {
        const job = await this.queue.getJob(o.id);
        const state = job ? await job.getState() : 'missing';
        if (state === 'failed' || state === 'completed') await job!.remove().catch(() => {});
        if (state === 'missing' || state === 'failed' || state === 'completed')
          await this.queue.add('operation', { operationId: o.id }, { jobId: o.id, ...OPERATION_JOB_OPTIONS });
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'reconcile failed; will retry');
    }
  }

  /** Hands a just-recorded operation to the workers (jobId = operation id, as everywhere). */
  async enqueue(operationId: string): Promise<void> {
    await this.queue.add('operation', { operationId }, { jobId: operationId, ...OPERATION_JOB_OPTIONS });
  }

  /** Jobs in the queue by state (waiting, active, delayed, failed). */
  async jobCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
  }

  async close(): Promise<void> {
    clearInterval(this.reconciler);
    await this.worker.close();
    await this.queue.close();
    this.connection.disconnect();
    this.queueConnection.disconnect();
  }
}
