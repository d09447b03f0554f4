import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A BullMQ prefix of the test's own, and a way to remove every key under it afterwards. */
export function testQueuePrefix(): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `fjord-test-${randomUUID().slice(0, 8)}`;
  return {
    prefix,
    async cleanup() {
      const r = new Redis(REDIS_URL);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
          cursor = next;
          if (keys.length) await r.del(...keys);
        } while (cursor !== '0');
      } finally {
        r.disconnect();
      }
    },
  };
}
