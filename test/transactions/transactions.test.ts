/**
 * Transactions as real clients use them, against one broker: exactly-once consume-transform-
 * produce with confluent_kafka (send_offsets_to_transaction, read_committed) and kafkajs
 * (sendOffsets), aborted data never visible to read_committed, and fencing of a zombie producer.
 */
import { type RunningBroker, removeDir, startBroker } from '@fjord/test-support/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../compat/clients.js';

const PYTHON = '/usr/bin/python3';
const CONFLUENT_EOS = new URL('./clients/confluent_eos.py', import.meta.url).pathname;

let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker();
  for (const t of ['eos-in', 'eos-out']) await broker.broker.services.ensureTopic(t, 1);
});
afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

describe('confluent_kafka transactional producer', () => {
  it('commits exactly once, hides aborted data from read_committed, commits offsets with the transaction, fences a zombie', async () => {
    const out = await runProcess(
      PYTHON,
      [CONFLUENT_EOS, broker.bootstrap, 'eos-in', 'eos-out', 'eos-group', 'eos-confluent'],
      180_000,
    );
    const expected = Array.from({ length: 10 }, (_, i) => `committed-in-${i}`);
    expect(out.committed).toEqual([...expected, 'successor']);
    // read_uncommitted sees the aborted records too (and nothing of the fenced zombie's).
    expect(out.uncommitted).toEqual([
      ...Array.from({ length: 5 }, (_, i) => `aborted-in-${i}`),
      ...expected,
      'successor',
    ]);
    expect(out.group_offset).toBe(10);
    expect(out.zombie_error).toMatchObject({ fatal: true });
    expect(['_FENCED', 'PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']).toContain(out.zombie_error.code);
  });
});
