/**
 * The compatibility matrix: real Kafka clients over real sockets, each running every cell in
 * order against a target (a standalone broker, or a replicated cluster). Each check throws (via
 * expect) when the client's view is wrong; outcomes are written as a Markdown table.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import {
  CELLS,
  type CellName,
  CLIENTS,
  type ClientSecurity,
  type CompatClient,
  SECURITY_CELLS,
} from './clients.js';

/** Where the clients run: what the checks need besides the bootstrap servers. */
export interface CompatTarget {
  readonly bootstrap: string;
  readonly brokers: number;
  /** Creates a topic with `partitions` partitions (and the target's replication factor). */
  ensureTopic(name: string, partitions: number): Promise<void>;
  /** The group's state and member count, as its coordinator sees it. */
  group(groupId: string): Promise<{ state: string; members: number }>;
  /** A restart of the service under the client: the broker, or every broker in turn. */
  restart(): Promise<void>;
  /** SASL_PLAINTEXT and SASL_SSL listeners, where the target has them (the SASL cells). */
  readonly secured?: {
    readonly bootstraps: Readonly<Record<ClientSecurity['protocol'], string>>;
    /** CA certificate that signed the SASL_SSL listener's certificate. */
    readonly ca: string;
    readonly username: string;
    readonly password: string;
  };
}

type Outcome = { status: 'pass' } | { status: 'fail'; error: string } | { status: 'n/a'; reason: string };
export type MatrixResults = Map<string, Map<string, Outcome>>;

function values(records: { v: string | null }[]): string[] {
  return records.map((r) => r.v ?? '<null>');
}

const expectedValues = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);

/**
 * How clients report a refused login: the SaslAuthenticate error (SASL_AUTHENTICATION_FAILED),
 * or, for the raw-token flow of old protocol versions, the connection the broker closed.
 */
const AUTH_REFUSED = /authenticat|SASL|EOF|closed|reset/i;

/** The checks behind each cell; `ns` prefixes topic and group names so targets can be shared. */
const CHECKS: Record<
  CellName,
  (c: CompatClient, t: CompatTarget, ns: string, codec?: string, cellId?: string) => Promise<void>
> = {
  metadata: async (c, t, ns) => {
    await c.run(t.bootstrap, ['produce', `${ns}meta-topic`, '1', 'none', 'false']);
    const r = await c.run(t.bootstrap, ['metadata']);
    expect(r.brokers).toBe(t.brokers);
    expect(r.topics).toContain(`${ns}meta-topic`);
  },
  'produce-consume': async (c, t, ns, codec = 'none') => {
    const topic = `${ns}codec-${codec}`;
    const p = await c.run(t.bootstrap, ['produce', topic, '50', codec, 'false']);
    expect(p.acked).toBe(50);
    const r = await c.run(t.bootstrap, ['consume', topic, `g-${topic}`, '50', '3000']);
    expect(values(r.records)).toEqual(expectedValues(50));
  },
  group: async (c, t, ns) => {
    const topic = `${ns}group-topic`;
    const group = `${ns}g3`;
    await t.ensureTopic(topic, 6);
    // The members stop 15 s after their last record, counting from when the go file appears: joining
    // and producing may take long on a busy machine, and must not count as idleness.
    const goFile = join(mkdtempSync(join(tmpdir(), 'fjord-compat-')), 'go');
    const members = [0, 1, 2].map(() => c.run(t.bootstrap, ['consume', topic, group, '-1', '15000', goFile]));
    try {
      // Produce only once all three joined and the rebalance settled, as the coordinator sees it.
      const deadline = Date.now() + 120_000;
      for (;;) {
        const g = await t.group(group);
        if (g.state === 'Stable' && g.members === 3) break;
        if (Date.now() > deadline)
          throw new Error(`group did not stabilise with 3 members: ${g.state}, ${g.members} members`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await c.run(t.bootstrap, ['produce', topic, '60', 'none', 'false']);
    } catch (e) {
      writeFileSync(goFile, '');
      await Promise.allSettled(members);
      throw e;
    }
    writeFileSync(goFile, '');
    const consumed = await Promise.all(members);
    const all = consumed.flatMap((m) => values(m.records as { v: string | null }[]));
    // Every message is seen (at least once: rebalances may replay uncommitted ones).
    for (const v of expectedValues(60)) expect(all).toContain(v);
    // The partitions were spread: at least two members received data.
    expect(consumed.filter((m) => m.records.length > 0).length).toBeGreaterThanOrEqual(2);
    // Commits happened: the group resumes at the end.
    const again = await c.run(t.bootstrap, ['consume', topic, group, '-1', '3000']);
    expect(again.records).toEqual([]);
  },
  restart: async (c, t, ns) => {
    const topic = `${ns}restart-topic`;
    const group = `${ns}g-restart`;
    await c.run(t.bootstrap, ['produce', topic, '10', 'none', 'false']);
    const first = await c.run(t.bootstrap, ['consume', topic, group, '10', '3000']);
    expect(first.records.map((r: { o: number }) => r.o)).toEqual([...Array(10).keys()]);
    await t.restart();
    await c.run(t.bootstrap, ['produce', topic, '10', 'none', 'false']);
    const second = await c.run(t.bootstrap, ['consume', topic, group, '10', '3000']);
    expect(second.records.map((r: { o: number }) => r.o)).toEqual([...Array(10).keys()].map((i) => i + 10));
  },
  admin: async (c, t, ns) => {
    const r = await c.run(t.bootstrap, ['admin', `${ns}admin-topic`]);
    expect(r.partitions).toBe(4);
    expect(r.deleted).toBe(true);
  },
  configs: async (c, t, ns) => {
    await c.run(t.bootstrap, ['produce', `${ns}config-topic`, '1', 'none', 'false']);
    const r = await c.run(t.bootstrap, ['configs', `${ns}config-topic`]);
    expect(r.before).toBe('604800000');
    expect(r.after).toBe('12345');
  },
  /**
   * SASL on a SASL_PLAINTEXT / SASL_SSL listener: with the right password the client produces
   * and consumes in a group; with a wrong one it is refused with an authentication error.
   */
  sasl: async (c, t, ns, _codec, cellId) => {
    const cell = SECURITY_CELLS.find((s) => s.id === cellId)!;
    const secured = t.secured!;
    const bootstrap = secured.bootstraps[cell.protocol];
    const security: ClientSecurity = {
      protocol: cell.protocol,
      mechanism: cell.mechanism,
      username: secured.username,
      password: secured.password,
      ca: cell.protocol === 'SASL_SSL' ? secured.ca : undefined,
    };
    const topic = `${ns}sasl-${cell.protocol}-${cell.mechanism}`.toLowerCase();
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
  /**
   * A transactional producer aborts 5 records, then commits 10; the client's own consumer (which
   * reads committed data by default) gets exactly the 10, never the aborted ones before them.
   */
  transactions: async (c, t, ns) => {
    const topic = `${ns}txn-topic`;
    const txnId = `${ns}txn-${c.name.replace(/[^a-z0-9]+/gi, '-')}`;
    const r = await c.run(t.bootstrap, ['transaction', topic, txnId]);
    expect(r.committed).toBe(10);
    const read = await c.run(t.bootstrap, ['consume', topic, `${ns}g-txn`, '10', '3000']);
    expect(values(read.records)).toEqual(expectedValues(10));
  },
  /**
   * A static member (group.instance.id, KIP-345) that stops and comes back: the coordinator keeps
   * its membership while the process is away (no rebalance: the group stays Stable with its one
   * member, where a dynamic member's close empties it) and the new process resumes after the
   * committed offset.
   */
  static: async (c, t, ns) => {
    const topic = `${ns}static-topic`;
    const group = `${ns}g-static`;
    // Long enough to outlive the restart on a busy machine; the check below runs well within it.
    const sessionMs = '120000';
    const offsets = (r: { records: { o: number }[] }) => r.records.map((x) => x.o);
    await t.ensureTopic(topic, 1);
    await c.run(t.bootstrap, ['produce', topic, '10', 'none', 'false']);
    const first = await c.run(t.bootstrap, ['consume-static', topic, group, '10', 'pod-0', sessionMs]);
    expect(offsets(first)).toEqual([...Array(10).keys()]);
    expect(await t.group(group)).toEqual({ state: 'Stable', members: 1 });
    await c.run(t.bootstrap, ['produce', topic, '10', 'none', 'false']);
    const second = await c.run(t.bootstrap, ['consume-static', topic, group, '10', 'pod-0', sessionMs]);
    expect(offsets(second)).toEqual([...Array(10).keys()].map((i) => i + 10));
    // The same instance came back: still one member, not a second one beside a stale first.
    expect(await t.group(group)).toEqual({ state: 'Stable', members: 1 });
  },
  idempotent: async (c, t, ns) => {
    const topic = `${ns}idem-topic`;
    const p = await c.run(t.bootstrap, ['produce', topic, '200', 'none', 'true']);
    expect(p.acked).toBe(200);
    const r = await c.run(t.bootstrap, ['consume', topic, `${ns}g-idem`, '200', '3000']);
    expect(values(r.records)).toEqual(expectedValues(200));
    const rest = await c.run(t.bootstrap, ['consume', topic, `${ns}g-idem-2`, '-1', '2000']);
    expect(rest.records).toHaveLength(200); // exactly once in the log: no duplicates
  },
};

/** FJORD_COMPAT_CLIENTS / FJORD_COMPAT_CELLS: comma-separated substrings to run part of the matrix (results are then not written). */
const only = (env: string | undefined) => (env ? env.split(',').map((s) => s.trim()) : undefined);
export const onlyClients = only(process.env.FJORD_COMPAT_CLIENTS);
const onlyCells = only(process.env.FJORD_COMPAT_CELLS);
const partial = onlyClients !== undefined || onlyCells !== undefined;

/** The clients FJORD_COMPAT_CLIENTS selects (all by default). */
export const selectedClients = () =>
  CLIENTS.filter((c) => !onlyClients || onlyClients.some((o) => c.name.includes(o)));

/** Runs every cell of one client against a target; returns the failures (empty when all passed). */
export async function runClient(
  client: CompatClient,
  target: CompatTarget,
  results: MatrixResults,
  ns = '',
): Promise<string[]> {
  const row = new Map<string, Outcome>();
  results.set(client.name, row);
  const failures: string[] = [];
  for (const cell of CELLS.filter((c) => !onlyCells || onlyCells.some((o) => c.id.includes(o)))) {
    const gap =
      client.gaps[cell.id] ??
      (cell.name === 'sasl' && !target.secured
        ? 'this target has no SASL listeners (tested against the standalone broker)'
        : undefined);
    if (gap) {
      row.set(cell.id, { status: 'n/a', reason: gap });
      continue;
    }
    const started = Date.now();
    try {
      await CHECKS[cell.name](client, target, ns, cell.codec, cell.id);
      row.set(cell.id, { status: 'pass' });
      if (process.env.FJORD_COMPAT_TIMINGS)
        console.log(`${client.name} / ${cell.id}: ${Date.now() - started} ms`);
    } catch (e) {
      const error = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      row.set(cell.id, { status: 'fail', error });
      failures.push(`${cell.id}: ${error}`);
    }
  }
  return failures;
}

/**
 * Where a full run writes the table `name` (RESULTS.md, RESULTS-cluster.md): the tracked file in
 * test/compat only when FJORD_COMPAT_UPDATE_RESULTS=1, otherwise test/compat/.results/ (gitignored),
 * so that running the tests leaves the working tree clean.
 */
export function resultsPath(name: string): string {
  return process.env.FJORD_COMPAT_UPDATE_RESULTS === '1'
    ? join(import.meta.dirname, name)
    : join(import.meta.dirname, '.results', name);
}

/** The results as a Markdown table (written only when every client ran), see resultsPath. */
export function writeResults(name: string, results: MatrixResults, heading: string, intro: string): void {
  if (partial || results.size !== CLIENTS.length) return;
  const path = resultsPath(name);
  const cells = CELLS.map((c) => c.id);
  const lines = [
    heading,
    '',
    intro,
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
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, lines.join('\n'));
}
