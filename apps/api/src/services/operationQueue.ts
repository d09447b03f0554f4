import { OPERATION_JOB_OPTIONS, OPERATIONS_QUEUE, type OperationJob } from '@fjord/contracts';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ApiProblem } from '../problem.js';

/** How the API hands an operation to the workers. */
export interface OperationQueue {
  enqueue(operationId: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const ENQUEUE_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ApiProblem('service_unavailable', `${what} did not answer in time`)),
      ENQUEUE_TIMEOUT_MS,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** BullMQ over a Redis connection that fails fast (no offline queue) so callers get 503, not a hang. */
export class BullOperationQueue implements OperationQueue {
  private readonly queue: Queue<OperationJob>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.queue = new Queue<OperationJob>(OPERATIONS_QUEUE, { connection: redis, prefix });
    // Connection errors surface on the calls that need Redis; the emitter must not crash the process.
    this.queue.on('error', () => {});
  }

  async enqueue(operationId: string): Promise<void> {
    if (this.redis.status !== 'ready')
      throw new ApiProblem('service_unavailable', 'the job queue (Redis) is unreachable');
    await withTimeout(
      this.queue.add('operation', { operationId }, { jobId: operationId, ...OPERATION_JOB_OPTIONS }),
      'the job queue (Redis)',
    );
  }

  async ping(): Promise<void> {
    if (this.redis.status !== 'ready')
      throw new ApiProblem('service_unavailable', 'the job queue (Redis) is unreachable');
    await withTimeout(this.redis.ping(), 'Redis');
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
