/**
 * The compatibility matrix: real Kafka clients over real sockets against Fjord brokers
 * started here. Each client gets its own broker (the restart cell restarts it) and runs
 * every cell in order; the table of outcomes is written to test/compat/RESULTS.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMPAT_PASSWORD, COMPAT_USER, type RunningBroker, removeDir, startBroker } from './brokerHarness.js';
import {
  CELLS,
  type CellName,
  CLIENTS,
  type ClientSecurity,
  type CompatClient,
  SECURITY_CELLS,
} from './clients.js';

type Cell = string;
type Outcome = { status: 'pass' } | { status: 'fail'; error: string } | { status: 'n/a'; reason: string };
const results = new Map<string, Map<Cell, Outcome>>();

function values(records: { v: string | null }[]): string[] {
  return records.map((r) => r.v ?? '<null>');
}

const expectedValues = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);

/**
 * How clients report a refused login: the SaslAuthenticate error (SASL_AUTHENTICATION_FAILED),
 * or, for the raw-token flow of old protocol versions, the connection the broker closed.
 */
const AUTH_REFUSED = /authenticat|SASL|EOF|closed|reset/i;

/** The checks behind each cell; they throw (via expect) when the client's view is wrong. */
const CHECKS: Record<
  CellName,
  (c: CompatClient, b: { current: RunningBroker }, codec?: string, cellId?: string) => Promise<void>
> = {
  metadata: async (c, b) => {
    await c.run(b.current.bootstrap, ['produce', 'meta-topic', '1', 'none', 'false']);
    const r = await c.run(b.current.bootstrap, ['metadata']);
    expect(r.brokers).toBe(1);
    expect(r.topics).toContain('meta-topic');
  },
  'produce-consume': async (c, b, codec = 'none') => {
    const topic = `codec-${codec}`;
    const p = await c.run(b.current.bootstrap, ['produce', topic, '50', codec, 'false']);
    expect(p.acked).toBe(50);
    const r = await c.run(b.current.bootstrap, ['consume', topic, `g-${topic}`, '50', '3000']);
    expect(values(r.records)).toEqual(expectedValues(50));
  },
  group: async (c, b) => {
    const topic = 'group-topic';
    await b.current.broker.services.ensureTopic(topic, 6);
    const members = [0, 1, 2].map(() => c.run(b.current.bootstrap, ['consume', topic, 'g3', '-1', '15000']));
    // Produce only once all three joined and the rebalance settled, as the broker sees it.
    const deadline = Date.now() + 14_000;
    for (;;) {
      const g = b.current.broker.services.groups.describe('g3');
      if (g.state === 'Stable' && g.members.length === 3) break;
      if (Date.now() > deadline)
        throw new Error(`group did not stabilise with 3 members: ${g.state}, ${g.members.length} members`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await c.run(b.current.bootstrap, ['produce', topic, '60', 'none', 'false']);
    const consumed = await Promise.all(members);
    const all = consumed.flatMap((m) => values(m.records as { v: string | null }[]));
    // Every message is seen (at least once: rebalances may replay uncommitted ones).
    for (const v of expectedValues(60)) expect(all).toContain(v);
    // The partitions were spread: at least two members received data.
    expect(consumed.filter((m) => m.records.length > 0).length).toBeGreaterThanOrEqual(2);
    // Commits happened: the group resumes at the end.
    const again = await c.run(b.current.bootstrap, ['consume', topic, 'g3', '-1', '3000']);
    expect(again.records).toEqual([]);
  },
  restart: async (c, b) => {
    const topic = 'restart-topic';
    await c.run(b.current.bootstrap, ['produce', topic, '10', 'none', 'false']);
    const first = await c.run(b.current.bootstrap, ['consume', topic, 'g-restart', '10', '3000']);
    expect(first.records.map((r: { o: number }) => r.o)).toEqual([...Array(10).keys()]);
    b.current = await b.current.restart();
    await c.run(b.current.bootstrap, ['produce', topic, '10', 'none', 'false']);
    const second = await c.run(b.current.bootstrap, ['consume', topic, 'g-restart', '10', '3000']);
    expect(second.records.map((r: { o: number }) => r.o)).toEqual([...Array(10).keys()].map((i) => i + 10));
  },
  admin: async (c, b) => {
    const r = await c.run(b.current.bootstrap, ['admin', 'admin-topic']);
    expect(r.partitions).toBe(4);
    expect(r.deleted).toBe(true);
  },
  configs: async (c, b) => {
    await c.run(b.current.bootstrap, ['produce', 'config-topic', '1', 'none', 'false']);
    const r = await c.run(b.current.bootstrap, ['configs', 'config-topic']);
    expect(r.before).toBe('604800000');
    expect(r.after).toBe('12345');
  },
  /**
   * SASL on a SASL_PLAINTEXT / SASL_SSL listener: with the right password the client produces
   * and consumes in a group; with a wrong one it is refused with an authentication error.
   */
  sasl: async (c, b, _codec, cellId) => {
    const cell = SECURITY_CELLS.find((s) => s.id === cellId)!;
    const bootstrap = b.current.bootstraps[cell.protocol]!;
    const security: ClientSecurity = {
      protocol: cell.protocol,
      mechanism: cell.mechanism,
      username: COMPAT_USER,
      password: COMPAT_PASSWORD,
      ca: cell.protocol === 'SASL_SSL' ? b.current.ca : undefined,
    };
    const topic = `sasl-${cell.protocol}-${cell.mechanism}`.toLowerCase();
    const p = await c.run(bootstrap, ['produce', topic, '20', 'none', 'false'], security);
    expect(p.acked).toBe(20);
    const r = await c.run(bootstrap, ['consume', topic, `g-${topic}`, '20', '3000'], security);
    expect(values(r.records)).toEqual(expectedValues(20));
    const refused = await c.run(bootstrap, ['metadata'], { ...security, password: 'wrong-password' }).then(
      (out) => ({ ok: true as const, out }),
      (e: Error) => ({ ok: false as const, error: e.message }),
    );
    expect(refused.ok, `a wrong password was accepted: ${JSON.stringify(refused)}`).toBe(false);
    if (!refused.ok) expect(refused.error).toMatch(AUTH_REFUSED);
  },
  idempotent: async (c, b) => {
    const p = await c.run(b.current.bootstrap, ['produce', 'idem-topic', '200', 'none', 'true']);
    expect(p.acked).toBe(200);
    const r = await c.run(b.current.bootstrap, ['consume', 'idem-topic', 'g-idem', '200', '3000']);
    expect(values(r.records)).toEqual(expectedValues(200));
    const rest = await c.run(b.current.bootstrap, ['consume', 'idem-topic', 'g-idem-2', '-1', '2000']);
    expect(rest.records).toHaveLength(200); // exactly once in the log: no duplicates
  },
};

/** FJORD_COMPAT_CLIENTS / FJORD_COMPAT_CELLS: comma-separated substrings to run a part of the matrix (RESULTS.md is then left alone). */
const only = (env: string | undefined) => (env ? env.split(',').map((s) => s.trim()) : undefined);
const onlyClients = only(process.env.FJORD_COMPAT_CLIENTS);
const onlyCells = only(process.env.FJORD_COMPAT_CELLS);
const partial = onlyClients !== undefined || onlyCells !== undefined;

describe.concurrent('real Kafka clients against a Fjord broker', () => {
  for (const client of CLIENTS.filter((c) => !onlyClients || onlyClients.some((o) => c.name.includes(o)))) {
    it(client.name, { timeout: 600_000 }, async () => {
      const row = new Map<Cell, Outcome>();
      results.set(client.name, row);
      const b = { current: await startBroker() };
      const failures: string[] = [];
      try {
        for (const cell of CELLS.filter((c) => !onlyCells || onlyCells.some((o) => c.id.includes(o)))) {
          const gap = client.gaps[cell.id];
          if (gap) {
            row.set(cell.id, { status: 'n/a', reason: gap });
            continue;
          }
          const started = Date.now();
          try {
            await CHECKS[cell.name](client, b, cell.codec, cell.id);
            row.set(cell.id, { status: 'pass' });
            if (process.env.FJORD_COMPAT_TIMINGS)
              console.log(`${client.name} / ${cell.id}: ${Date.now() - started} ms`);
          } catch (e) {
            const error = e instanceof Error ? e.message.split('\n')[0]! : String(e);
            row.set(cell.id, { status: 'fail', error });
            failures.push(`${cell.id}: ${error}`);
          }
        }
      } finally {
        await b.current.stop();
        removeDir(b.current.dataDir);
      }
      expect(failures).toEqual([]);
    });
  }
});

afterAll(() => {
  const cells = CELLS.map((c) => c.id);
  const lines = [
    '# Compatibility matrix',
    '',
    'Written by `test/compat/compat.test.ts` (part of `npm test`): each cell is a real client over a real',
    'socket against a standalone Fjord broker started by the test. ✅ passed, ❌ failed, — not applicable',
    '(reason below the table).',
    '',
    `Last run: ${new Date().toISOString()}`,
    '',
    `| client | ${cells.join(' | ')} |`,
    `|---|${cells.map(() => '---').join('|')}|`,
  ];
  const notes: string[] = [];
  for (const client of CLIENTS) {
    const row = results.get(client.name);
    if (!row) continue;
    const marks = cells.map((id) => {
      const o = row.get(id);
      if (!o) return ' ';
      if (o.status === 'pass') return '✅';
      if (o.status === 'fail') {
        notes.push(`- ${client.name} / ${id}: failed: ${o.error}`);
        return '❌';
      }
      notes.push(`- ${client.name} / ${id}: ${o.reason}`);
      return '—';
    });
    lines.push(`| ${client.name} | ${marks.join(' | ')} |`);
  }
  lines.push('', ...notes, '');
  if (!partial && results.size === CLIENTS.length)
    writeFileSync(join(import.meta.dirname, 'RESULTS.md'), lines.join('\n'));
});
