import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '../../apps/broker/dist/main.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The broker daemon as a real OS process, so it can be killed with SIGKILL. */
export class BrokerProcess {
  private child?: ChildProcess;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'fjord-proc-'));

  constructor(
    readonly port: number,
    private readonly overrides: Record<string, string> = {},
  ) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child!.pid!;
  }

  async start(): Promise<void> {
    const args = ['--listen', this.bootstrap, '--data-dir', this.dataDir];
    for (const [k, v] of Object.entries({ 'group.initial.rebalance.delay.ms': '0', ...this.overrides }))
      args.push('--override', `${k}=${v}`);
    const child = spawn(process.execPath, [MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FJORD_LOG_LEVEL: 'warn' },
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes('broker started')) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.once('exit', (code) => reject(new Error(`broker exited ${code}: ${out.slice(-500)}`)));
      // "broker started" is logged at info; with warn level, poll the port instead.
      const poll = setInterval(async () => {
        const { connect } = await import('node:net');
        const s = connect(this.port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          clearInterval(poll);
          resolve();
        });
        s.once('error', () => s.destroy());
      }, 50);
    });
  }

  kill9(): void {
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** Resident memory of the broker process in MiB. */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
  }
}
