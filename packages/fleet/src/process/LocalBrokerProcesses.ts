import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BROKER_FILE_NAME,
  type BrokerHandle,
  type BrokerSpec,
  type BrokerState,
  FleetError,
  type ZoneHealth,
} from '../FleetDriver.js';
import { freePorts, type PortRange } from './ports.js';
import { isOurProcess, sleep, tcpReachable } from './processes.js';
import {
  DEFAULT_RESTART_POLICY,
  decideRestart,
  type RestartHistory,
  type RestartPolicy,
  recordRestart,
} from './restartPolicy.js';
import { writeSecretFile } from './secretFile.js';

export interface LocalBrokerProcessesOptions {
  readonly zone: string;
  /** Where every broker's directory lives: `<root>/<key>/{broker.json,server.properties,broker.pid,broker.log,data}`. */
  readonly root: string;
  /** Address brokers listen on and advertise. */
  readonly host: string;
  /** The broker daemon's entry point (apps/broker/dist/main.js). */
  readonly brokerMain: string;
  readonly startTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
  readonly restartPolicy?: RestartPolicy;
  /** Ports brokers get (listeners and metrics); unset: any free ports. */
  readonly portRange?: PortRange;
}

/** What the supervisor knows of one broker (in memory: a restarted agent starts afresh). */
interface Supervision {
  history: RestartHistory;
  restarts: number;
  state: 'restarting' | 'backoff' | 'crash-loop' | undefined;
  lastError: string | null;
}

interface Stored {
  readonly spec: BrokerSpec;
  readonly host: string;
  readonly ports: Record<string, number>;
  /** The broker's Prometheus endpoint; absent in files written before metrics existed. */
  readonly metricsPort?: number;
  /** Whether the broker should run (the supervisor restarts it); absent means running. */
  readonly desired?: 'running' | 'stopped';
}

const KEY_RE = /^[a-z0-9][a-z0-9-]{0,80}$/;

/** What a broker sees of its agent's environment: nothing else, so none of the agent's secrets. */
const BROKER_ENVIRONMENT = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'NODE_OPTIONS',
  'FJORD_LOG_LEVEL',
];

export function brokerEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(BROKER_ENVIRONMENT.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
}

/**
 * Broker processes on this host. They are spawned detached with their own session, so they outlive
 * the agent; what is running is found again from pid files (checked against /proc so a recycled pid
 * is not mistaken for a broker). Ports are chosen once per broker and kept across restarts.
 */
export class LocalBrokerProcesses {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly supervision = new Map<string, Supervision>();

  constructor(private readonly o: LocalBrokerProcessesOptions) {
    mkdirSync(o.root, { recursive: true });
  }

  private dir(key: string): string {
    if (!KEY_RE.test(key)) throw new FleetError(`invalid broker key '${key}'`);
    return join(this.o.root, key);
  }

  /** One change at a time per broker. */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.then(
      () => {},
      () => {},
    );
    this.locks.set(key, settled);
    // The entry goes once nothing else queued behind it, so `locks` says what is in progress.
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return next;
  }

  private stored(key: string): Stored | undefined {
    const file = join(this.dir(key), 'broker.json');
    if (!existsSync(file)) return undefined;
    return JSON.parse(readFileSync(file, 'utf8')) as Stored;
  }

  private pid(key: string): number | null {
    const file = join(this.dir(key), 'broker.pid');
    if (!existsSync(file)) return null;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && isOurProcess(pid, join(this.dir(key), 'server.properties'))
      ? pid
      : null;
  }

  private propertiesOf(s: Stored): string {
    const names = Object.keys(s.spec.listeners);
    const lines = [
      '# Written by the Fjord zone agent; changes are overwritten on the next ensure.',
      `listeners=${names.map((n) => `${n}://${s.host}:${s.ports[n]}`).join(',')}`,
      `advertised.listeners=${names.map((n) => `${n}://${s.host}:${s.ports[n]}`).join(',')}`,
      `listener.security.protocol.map=${names.map((n) => `${n}:${s.spec.listeners[n]}`).join(',')}`,
      `log.dirs=${join(this.dir(s.spec.key), 'data')}`,
      ...Object.entries(s.spec.properties).map(([k, v]) => `${k}=${v}`),
      // Last, so it wins: the agent reports this port in the broker's handle.
      `fjord.metrics.listen=${s.host}:${s.metricsPort}`,
    ];
    return `${lines.join('\n')}\n`;
  }

  /** Ports already given to this host's brokers, running or not (a stopped one keeps its ports). */
  private portsTaken(): Set<number> {
    const taken = new Set<number>();
    for (const k of readdirSync(this.o.root)) {
      if (!KEY_RE.test(k) || !existsSync(join(this.o.root, k, 'broker.json'))) continue;
      const s = this.stored(k);
      for (const p of Object.values(s?.ports ?? {})) taken.add(p);
      if (s?.metricsPort) taken.add(s.metricsPort);
    }
    return taken;
  }

  ensure(spec: BrokerSpec): Promise<BrokerHandle> {
    return this.serial(spec.key, async () => {
      const dir = this.dir(spec.key);
      mkdirSync(join(dir, 'data'), { recursive: true });
      const before = this.stored(spec.key);
      const names = Object.keys(spec.listeners);
      // A broker that never started has told nobody its ports: if one was taken between choosing
      // it and binding it (an outgoing connection's ephemeral port, on a busy host), choose again.
      const neverStarted = !before || before.metricsPort === undefined;
      for (let attempt = 1; ; attempt++) {
        let stored = attempt === 1 ? before : undefined;
        if (
          !stored ||
          stored.metricsPort === undefined ||
          names.some((n) => stored!.ports[n] === undefined)
        ) {
          // One more port than listeners: the last is the metrics port (not a listener).
          const ports = await freePorts(this.o.host, names.length + 1, this.o.portRange, this.portsTaken());
          stored = {
            spec,
            host: this.o.host,
            ports: Object.fromEntries(names.map((n, i) => [n, stored?.ports[n] ?? ports[i]!])),
            metricsPort: stored?.metricsPort ?? ports[names.length]!,
          };
        } else stored = { ...stored, spec };
        stored = { ...stored, desired: 'running' };
        await this.writeFiles(dir, spec);
        // Both hold secrets (SCRAM passwords, the metadata store's URL): owner-only.
        await writeSecretFile(join(dir, 'broker.json'), JSON.stringify(stored, null, 2));
        await writeSecretFile(join(dir, 'server.properties'), this.propertiesOf(stored));
        try {
          if (this.pid(spec.key) === null) await this.spawn(stored);
        } catch (e) {
          if (neverStarted && attempt < 3 && /EADDRINUSE/.test((e as Error).message)) continue;
          throw e;
        }
        return this.handle(spec.key) as Promise<BrokerHandle>;
      }
    });
  }

  /**
   * The spec's files (TLS keys and certificates), owner-only, before server.properties names them;
   * ones no longer named go (a rotated key must not linger). A running broker reads new ones when
   * told to (a dynamic config change), not now.
   */
  private async writeFiles(dir: string, spec: BrokerSpec): Promise<void> {
    const files = spec.files ?? {};
    for (const name of Object.keys(files))
      if (!BROKER_FILE_NAME.test(name)) throw new FleetError(`invalid broker file name '${name}'`);
    const tls = join(dir, 'tls');
    mkdirSync(tls, { recursive: true, mode: 0o700 });
    for (const [name, content] of Object.entries(files)) await writeSecretFile(join(dir, name), content);
    for (const f of readdirSync(tls)) if (!(`tls/${f}` in files)) rmSync(join(tls, f), { force: true });
  }

  private async spawn(s: Stored): Promise<void> {
    const dir = this.dir(s.spec.key);
    const logFile = join(dir, 'broker.log');
    const out = openSync(logFile, 'a');
    // Passwords go in a file only this user reads, never on the command line (ps shows it to all).
    const scramFile = join(dir, 'scram-users');
    await writeSecretFile(scramFile, s.spec.scramUsers.map((u) => `${u}\n`).join(''));
    const args = [
      this.o.brokerMain,
      '--config',
      join(dir, 'server.properties'),
      '--add-scram-file',
      scramFile,
    ];
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: dir,
      env: brokerEnvironment(process.env),
    });
    closeSync(out);
    child.unref();
    const pid = child.pid;
    if (!pid) throw new FleetError(`could not start broker ${s.spec.key}`);
    await writeFile(join(dir, 'broker.pid'), `${pid}\n`);
    const first = Object.keys(s.spec.listeners)[0]!;
    const deadline = Date.now() + (this.o.startTimeoutMs ?? 20_000);
    while (Date.now() < deadline) {
      if (!isOurProcess(pid, join(dir, 'server.properties'))) {
        const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
        throw new FleetError(`broker ${s.spec.key} exited during start-up:\n${tail}`);
      }
      if (await tcpReachable(s.host, s.ports[first]!)) return;
      await sleep(50);
    }
    throw new FleetError(`broker ${s.spec.key} did not open port ${s.ports[first]} in time`);
  }

  stop(key: string): Promise<void> {
    return this.serial(key, async () => {
      // Stopped on purpose: the supervisor leaves it down until the next ensure.
      const s = this.stored(key);
      if (s)
        await writeSecretFile(
          join(this.dir(key), 'broker.json'),
          JSON.stringify({ ...s, desired: 'stopped' }, null, 2),
        );
      this.supervision.delete(key);
      await this.stopNow(key);
    });
  }

  private async stopNow(key: string): Promise<void> {
    const pid = this.pid(key);
    const pidFile = join(this.dir(key), 'broker.pid');
    if (pid !== null) {
      const marker = join(this.dir(key), 'server.properties');
      // SIGTERM is the broker's controlled shutdown; SIGKILL only if it does not finish in time.
      process.kill(-pid, 'SIGTERM');
      const deadline = Date.now() + (this.o.stopTimeoutMs ?? 20_000);
      while (isOurProcess(pid, marker) && Date.now() < deadline) await sleep(50);
      if (isOurProcess(pid, marker)) {
        process.kill(-pid, 'SIGKILL');
        while (isOurProcess(pid, marker)) await sleep(20);
      }
    }
    rmSync(pidFile, { force: true });
  }

  remove(key: string): Promise<void> {
    return this.serial(key, async () => {
      await this.stopNow(key);
      rmSync(this.dir(key), { recursive: true, force: true });
      this.supervision.delete(key);
    });
  }

  /**
   * One supervision pass: every broker that should run but does not (it crashed, was killed, or
   * died while the agent was away) is restarted with its ports and data, following the restart
   * policy's backoff and crash-loop pause. Brokers stopped on purpose are left alone.
   */
  async superviseOnce(now = Date.now()): Promise<void> {
    const policy = this.o.restartPolicy ?? DEFAULT_RESTART_POLICY;
    const keys = readdirSync(this.o.root).filter(
      (k) => KEY_RE.test(k) && existsSync(join(this.o.root, k, 'broker.json')),
    );
    await Promise.all(
      keys.map(async (key) => {
        const s = this.stored(key);
        if (!s || s.desired === 'stopped' || this.locks.has(key) || this.pid(key) !== null) return;
        const sup = this.supervision.get(key) ?? {
          history: [],
          restarts: 0,
          state: undefined,
          lastError: null,
        };
        this.supervision.set(key, sup);
        const d = decideRestart(sup.history, now, policy);
        if (d.kind !== 'restart') {
          sup.state = d.kind;
          return;
        }
        sup.history = recordRestart(sup.history, now, policy);
        sup.restarts++;
        sup.state = 'restarting';
        try {
          await this.serial(key, async () => {
            // Stopped, removed or started meanwhile: nothing to do.
            const again = this.stored(key);
            if (again && again.desired !== 'stopped' && this.pid(key) === null) await this.spawn(again);
          });
          sup.state = undefined;
          sup.lastError = null;
        } catch (err) {
          sup.state = 'backoff';
          sup.lastError = (err as Error).message.slice(0, 2000);
        }
      }),
    );
  }

  /** Runs `superviseOnce` every `everyMs` (no overlapping passes); returns the stop function. */
  supervise(everyMs: number, onError: (err: Error) => void = () => {}): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.superviseOnce()
        .catch(onError)
        .finally(() => {
          running = false;
        });
    }, everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  async handle(key: string): Promise<BrokerHandle | undefined> {
    const s = this.stored(key);
    if (!s) return undefined;
    const pid = this.pid(key);
    const first = Object.keys(s.spec.listeners)[0]!;
    const sup = this.supervision.get(key);
    const state: BrokerState =
      pid !== null ? 'running' : s.desired === 'stopped' ? 'stopped' : (sup?.state ?? 'down');
    return {
      key,
      instanceId: s.spec.instanceId,
      brokerId: s.spec.brokerId,
      host: s.host,
      ports: s.ports,
      metricsPort: s.metricsPort ?? 0,
      dataDir: join(this.dir(key), 'data'),
      pid,
      running: pid !== null,
      reachable: pid !== null && (await tcpReachable(s.host, s.ports[first]!, 2000)),
      diskUsedBytes: dirSize(join(this.dir(key), 'data')),
      state,
      restarts: sup?.restarts ?? 0,
      lastError: pid === null ? (sup?.lastError ?? null) : null,
    };
  }

  async list(): Promise<BrokerHandle[]> {
    const keys = readdirSync(this.o.root).filter(
      (k) => KEY_RE.test(k) && existsSync(join(this.o.root, k, 'broker.json')),
    );
    const handles = await Promise.all(keys.map((k) => this.handle(k)));
    return handles.filter((h): h is BrokerHandle => h !== undefined);
  }

  async health(): Promise<ZoneHealth> {
    const fs = await statfs(this.o.root);
    return {
      zone: this.o.zone,
      brokerHost: this.o.host,
      brokers: (await this.list()).filter((b) => b.running).length,
      diskTotalBytes: fs.blocks * fs.bsize,
      diskFreeBytes: fs.bavail * fs.bsize,
    };
  }
}

function dirSize(path: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(path);
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(path, e);
    try {
      const st = statSync(p);
      total += st.isDirectory() ? dirSize(p) : st.size;
    } catch {
      // removed meanwhile
    }
  }
  return total;
}

/** A stable digest of a spec, for telling whether a running broker was started with it. */
export function specDigest(spec: BrokerSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}
