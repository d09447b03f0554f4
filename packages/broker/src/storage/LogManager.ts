import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type LogConfig, PartitionLog } from './PartitionLog.js';

const CLEAN_SHUTDOWN_FILE = '.fjord_clean_shutdown';

export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/**
 * Owns the partition logs of a broker across its log dirs (JBOD): loads them at start-up
 * (recovering after an unclean shutdown), places new partitions in the dir holding the
 * fewest, and marks a clean shutdown so the next start can skip recovery.
 */
export class LogManager {
  private readonly logs = new Map<string, PartitionLog>();
  private readonly dirOf_ = new Map<string, string>();
  private cleanShutdown = new Map<string, boolean>();

  constructor(
    readonly dirs: readonly string[],
    private readonly log: Logger,
  ) {}

  /** Prepares the dirs; returns the partition dirs found, for the caller to open with configs. */
  startup(): { topic: string; partition: number; dir: string }[] {
    const found: { topic: string; partition: number; dir: string }[] = [];
    for (const dir of this.dirs) {
      mkdirSync(dir, { recursive: true });
      const marker = join(dir, CLEAN_SHUTDOWN_FILE);
      this.cleanShutdown.set(dir, existsSync(marker));
      rmSync(marker, { force: true });
      for (const entry of readdirSync(dir)) {
        const full = join(dir, entry);
        if (entry.endsWith('-delete')) {
          rmSync(full, { recursive: true, force: true });
          continue;
        }
        const m = /^(.+)-(\d+)$/.exec(entry);
        if (!m || !statSync(full).isDirectory()) continue;
        found.push({ topic: m[1]!, partition: Number(m[2]), dir: full });
        this.dirOf_.set(entry, dir);
      }
    }
    return found;
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(partitionDirName(topic, partition));
  }

  /** The log dir holding a partition. */
  dirOf(topic: string, partition: number): string | undefined {
    return this.dirOf_.get(partitionDirName(topic, partition));
  }

  all(): IterableIterator<[string, PartitionLog]> {
    return this.logs.entries();
  }

  getOrCreate(topic: string, partition: number, config: LogConfig, now: number): PartitionLog {
    const name = partitionDirName(topic, partition);
    const existing = this.logs.get(name);
    if (existing) {
      existing.config = config;
      return existing;
    }
    const parent = this.dirOf_.get(name) ?? this.leastLoadedDir();
    const log = PartitionLog.open(join(parent, name), config, {
      cleanShutdown: this.cleanShutdown.get(parent) ?? true,
      now,
    });
    this.dirOf_.set(name, parent);
    this.logs.set(name, log);
    return log;
  }

  private leastLoadedDir(): string {
    const counts = new Map(this.dirs.map((d) => [d, 0]));
    for (const parent of this.dirOf_.values()) counts.set(parent, (counts.get(parent) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => a[1] - b[1])[0]![0];
  }

  /** Removes a partition's log: rename first (cheap and atomic), then delete the files. */
  delete(topic: string, partition: number): void {
    const name = partitionDirName(topic, partition);
    const log = this.logs.get(name);
    const parent = this.dirOf_.get(name);
    this.logs.delete(name);
    this.dirOf_.delete(name);
    if (!parent) return;
    const doomed = join(parent, `${name}.${Date.now()}-delete`);
    try {
      log?.close(Date.now());
      renameSync(join(parent, name), doomed);
      rmSync(doomed, { recursive: true, force: true });
    } catch (err) {
      this.log.warn({ err, partition: name }, 'could not delete partition directory');
    }
  }

  /** Retention for every log; returns segments deleted. */
  applyRetention(now: number): number {
    let deleted = 0;
    for (const log of this.logs.values()) deleted += log.applyRetention(now);
    return deleted;
  }

  shutdown(now: number): void {
    for (const log of this.logs.values()) log.close(now);
    this.logs.clear();
    for (const dir of this.dirs) writeFileSync(join(dir, CLEAN_SHUTDOWN_FILE), '');
  }
}
