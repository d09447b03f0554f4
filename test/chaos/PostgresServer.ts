import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@fjord/broker-app';

/**
 * A PostgreSQL server of its own (initdb in a temp dir, its own port), so a test can restart
 * it without disturbing the shared one other tests use. Uses the installed server binaries;
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
 */
export class PostgresServer {
  private constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  static async start(): Promise<PostgresServer> {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
    const bin = join('/usr/lib/postgresql', versions[versions.length - 1]!, 'bin');
    const dataDir = mkdtempSync(join(tmpdir(), 'fjord-pg-'));
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dataDir, uid, gid);
      chmodSync(dataDir, 0o700);
    }
    const server = new PostgresServer(dataDir, await freePort(), bin);
    server.run('initdb', [
      '-D',
      join(dataDir, 'data'),
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    server.pgctl('start');
    return server;
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}`;
  }

  /** Stops the server (fast: open sessions are cut, as in a crash of the service). */
  stop(): void {
    this.pgctl('stop', ['-m', 'fast']);
  }

  startAgain(): void {
    this.pgctl('start');
  }

  destroy(): void {
    try {
      this.pgctl('stop', ['-m', 'immediate']);
    } catch {
      // already stopped
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private pgctl(action: string, extra: string[] = []): void {
    this.run('pg_ctl', [
      action,
      '-D',
      join(this.dataDir, 'data'),
      '-w',
      '-l',
      join(this.dataDir, 'server.log'),
      '-o',
      `-p ${this.port} -k ${this.dataDir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      ...extra,
    ]);
  }

  private run(tool: string, args: string[]): void {
    const cmd = join(this.bin, tool);
    if (process.getuid?.() === 0)
      execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' });
    else execFileSync(cmd, args, { stdio: 'pipe' });
  }
}
