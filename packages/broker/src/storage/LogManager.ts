import { randomUUID } from 'node:crypto';
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { planDiskTrim, type TrimCandidate } from './DiskTrimPlanner.js';
import { isStorageIoError, KafkaStorageError } from './errors.js';
import { fsyncDirectory, fsyncTree, writeFileDurably } from './FileIO.js';
import { LogCleaner, type LogCleanerOptions } from './LogCleaner.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './LogConfig.js';
import { isDeletedPartitionDirName, parsePartitionDirName, partitionDirName } from './LogFileNames.js';
import { ensureMetaProperties } from './MetaProperties.js';
import { PartitionLog } from './PartitionLog.js';
import type { Scheduler } from './Scheduler.js';

export { partitionDirName } from './LogFileNames.js';

/** Kafka's `.kafka_cleanshutdown`: present only while the broker is stopped after a clean stop. */
export const CLEAN_SHUTDOWN_FILE = '.fjord_clean_shutdown';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A log dir failed: its partitions are offline on this broker until it is repaired. */
export interface DirOfflineEvent {
  readonly dir: string;
  readonly error: unknown;
  readonly partitions: readonly TopicPartition[];
}

export interface LogManagerOptions {
  /** Written to (and checked against) each dir's meta.properties. */
  readonly clusterId?: string;
  readonly nodeId?: number;
  /** Log cleaner settings; `false` disables compaction. */
  readonly cleaner?: LogCleanerOptions | false;
}

/** Periods of the background work, with Kafka's broker defaults where Kafka has one. */
export interface StorageIntervals {
  /** log.retention.check.interval.ms */
  readonly retentionCheckMs: number;
  /** log.flush.scheduler.interval.ms (Kafka's default never runs; flush.ms needs it to). */
  readonly flushCheckMs: number;
  /** log.flush.offset.checkpoint.interval.ms */
  readonly checkpointMs: number;
  /** log.cleaner.backoff.ms */
  readonly cleanerBackoffMs: number;
  /** How often each dir is probed, so a vanished disk is noticed even when idle. */
  readonly dirCheckMs: number;
}

export const DEFAULT_STORAGE_INTERVALS: StorageIntervals = {
  retentionCheckMs: 300_000,
  flushCheckMs: 1_000,
  checkpointMs: 60_000,
  cleanerBackoffMs: 15_000,
  dirCheckMs: 5_000,
};

interface PartitionEntry {
  readonly topic: string;
  readonly partition: number;
  readonly parentDir: string;
  log: PartitionLog | undefined;
}

/**
 * Owns the partition logs of a broker across its log dirs (JBOD), as Kafka's LogManager:
 * loads them at start-up (recovering after an unclean shutdown, dirs side by side), places new
 * partitions in the online dir holding the fewest, deletes partitions by renaming their dir to
 * `<topic>-<partition>.<uuid>-delete` and removing it in the background, runs retention,
 * flushes, checkpoints and the cleaner on an injected scheduler, and takes a dir offline — with
 * only its partitions — on the first I/O error there.
 */
export class LogManager {
  private readonly partitions = new Map<string, PartitionEntry>();
  private readonly cleanShutdown = new Map<string, boolean>();
  private readonly offline = new Map<string, unknown>();
  private readonly directoryIds = new Map<string, string>();
  private readonly listeners = new Set<(event: DirOfflineEvent) => void>();
  private cleanerTask?: { scheduler: Scheduler; backoffMs: number; cancel: () => void };
  private readonly cancels: (() => void)[] = [];
  private readonly pendingDeletes = new Set<Promise<void>>();
  readonly cleaner: LogCleaner | undefined;
  /**
   * The high watermark of a partition, set by the replica layer: retention and cleaning never
   * touch records at or above it. Without it the log end offset bounds them.
   */
  highWatermarkOf: ((topic: string, partition: number) => number | undefined) | undefined;
  /** The partition's last stable offset: the cleaner leaves unfinished transactions alone. */
  lastStableOffsetOf: ((topic: string, partition: number) => number | undefined) | undefined;

  constructor(
    readonly dirs: readonly string[],
    private readonly logger: Logger,
    private readonly options: LogManagerOptions = {},
  ) {
    this.cleaner = options.cleaner === false ? undefined : new LogCleaner(options.cleaner);
  }

  // ---- start-up --------------------------------------------------------------------------

  /**
   * Prepares every dir (creates it, meta.properties, reads and removes the clean-shutdown
   * marker, clears partition dirs left queued for deletion) and returns the partition dirs
   * found. A dir that cannot be prepared starts offline.
   */
  startup(): { topic: string; partition: number; dir: string }[] {
    const found: { topic: string; partition: number; dir: string }[] = [];
    for (const dir of this.dirs) {
      try {
        mkdirSync(dir, { recursive: true });
        const meta = ensureMetaProperties(dir, {
          clusterId: this.options.clusterId,
          nodeId: this.options.nodeId,
        });
        this.directoryIds.set(dir, meta.directoryId);
        const marker = join(dir, CLEAN_SHUTDOWN_FILE);
        this.cleanShutdown.set(dir, existsSync(marker));
        if (existsSync(marker)) {
          // Gone for good before anything is written: a crash from now on must mean recovery.
          rmSync(marker);
          fsyncDirectory(dir);
        }
        for (const entry of readdirSync(dir)) {
          const full = join(dir, entry);
          if (isDeletedPartitionDirName(entry)) {
            this.removeInBackground(full);
            continue;
          }
          const tp = parsePartitionDirName(entry);
          if (!tp || !statSync(full).isDirectory()) continue;
          const twin = this.partitions.get(entry);
          if (twin) {
            // A move between dirs stopped after its copy was in place: both are the same log.
            this.logger.warn(
              { partition: entry, kept: twin.parentDir, dropped: dir },
              'partition found in two log dirs',
            );
            this.removeInBackground(full);
            continue;
          }
          this.partitions.set(entry, { ...tp, parentDir: dir, log: undefined });
          found.push({ ...tp, dir: full });
        }
      } catch (error) {
        if (!isStorageIoError(error)) throw error;
        this.failDir(dir, error);
      }
    }
    return found;
  }

  /**
   * Opens every partition found by startup(), dirs in parallel (recovery reads are
   * asynchronous; partitions of one dir go one after the other, as with Kafka's default of one
   * recovery thread per dir). An I/O error takes that dir offline and the others carry on.
   */
  async loadLogs(
    configFor: (topic: string, partition: number) => LogConfig | undefined,
    now = Date.now(),
  ): Promise<{ loaded: number; truncatedBytes: number }> {
    let loaded = 0;
    let truncatedBytes = 0;
    await Promise.all(
      this.dirs.map(async (dir) => {
        for (const [name, entry] of this.partitions) {
          if (entry.parentDir !== dir || entry.log) continue;
          if (this.offline.has(dir)) return;
          try {
            const log = await PartitionLog.openAsync(
              join(dir, name),
              configFor(entry.topic, entry.partition) ?? DEFAULT_LOG_CONFIG,
              { cleanShutdown: this.cleanShutdown.get(dir) ?? false, now },
            );
            if (this.offline.has(dir)) {
              log.markOffline(this.offline.get(dir));
              return;
            }
            this.attach(entry, log);
            loaded++;
            truncatedBytes += log.truncatedOnLoad;
            if (log.truncatedOnLoad > 0)
              this.logger.warn(
                { topic: entry.topic, partition: entry.partition, bytes: log.truncatedOnLoad },
                'truncated a torn or corrupt log tail during recovery',
              );
          } catch (error) {
            if (!isStorageIoError(error)) throw error;
            this.failDir(dir, error);
            return;
          }
        }
      }),
    );
    return { loaded, truncatedBytes };
  }

  private attach(entry: PartitionEntry, log: PartitionLog): void {
    entry.log = log;
    log.onStorageError = (error) => this.failDir(entry.parentDir, error);
  }

  // ---- partitions ------------------------------------------------------------------------

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.partitions.get(partitionDirName(topic, partition))?.log;
  }

  /** The log dir holding a partition (also for partitions not opened yet). */
  dirOf(topic: string, partition: number): string | undefined {
    return this.partitions.get(partitionDirName(topic, partition))?.parentDir;
  }

  /** Opened logs by partition dir name (offline ones included: their operations throw). */
  *all(): IterableIterator<[string, PartitionLog]> {
    for (const [name, entry] of this.partitions) if (entry.log) yield [name, entry.log];
  }

  /**
   * The partition's log: already open, or opened from its dir, or created in the online dir
   * with the fewest partitions. Throws KafkaStorageError when the partition's dir is offline
   * (or every dir is).
   */
  getOrCreate(topic: string, partition: number, config: LogConfig, now: number): PartitionLog {
    const name = partitionDirName(topic, partition);
    const existing = this.partitions.get(name);
    if (existing?.log) {
      if (!existing.log.isOffline) existing.log.config = config;
      return existing.log;
    }
    const parentDir = existing?.parentDir ?? this.leastLoadedDir();
    if (this.offline.has(parentDir))
      throw new KafkaStorageError(`log dir ${parentDir} of ${name} is offline`, parentDir);
    const entry: PartitionEntry = existing ?? { topic, partition, parentDir, log: undefined };
    try {
      const log = PartitionLog.open(join(parentDir, name), config, {
        cleanShutdown: this.cleanShutdown.get(parentDir) ?? true,
        now,
      });
      this.partitions.set(name, entry);
      this.attach(entry, log);
      return log;
    } catch (error) {
      if (!isStorageIoError(error)) throw error;
      this.failDir(parentDir, error);
      throw new KafkaStorageError(`log dir ${parentDir} failed creating ${name}`, parentDir, {
        cause: error,
      });
    }
  }

  private leastLoadedDir(): string {
    const counts = new Map<string, number>();
    for (const dir of this.dirs) if (!this.offline.has(dir)) counts.set(dir, 0);
    if (counts.size === 0) throw new KafkaStorageError('every log dir is offline', undefined);
    for (const entry of this.partitions.values())
      if (counts.has(entry.parentDir)) counts.set(entry.parentDir, counts.get(entry.parentDir)! + 1);
    let best: string | undefined;
    for (const [dir, n] of counts) if (best === undefined || n < counts.get(best)!) best = dir;
    return best!;
  }

  /**
   * Moves a partition's log to another of this broker's log dirs (AlterReplicaLogDirs): the log
   * is flushed and closed, copied into the target under a `-delete` name (so a crash mid-copy
   * leaves only garbage that start-up removes), renamed into place, and reopened there; then the
   * old copy is removed. The partition takes no writes while its files are copied.
   */
  async move(topic: string, partition: number, targetDir: string, now: number): Promise<PartitionLog> {
    const name = partitionDirName(topic, partition);
    const entry = this.partitions.get(name);
    if (!entry?.log) throw new Error(`partition ${name} is not open here`);
    if (!this.dirs.includes(targetDir)) throw new Error(`${targetDir} is not a log dir of this broker`);
    if (entry.parentDir === targetDir) return entry.log;
    if (!this.isDirOnline(targetDir) || !this.isDirOnline(entry.parentDir))
      throw new KafkaStorageError(`log dir ${targetDir} or ${entry.parentDir} is offline`, targetDir);
    const log = entry.log;
    await log.flushesSettled();
    const config = log.config;
    log.close(now);
    const staging = join(targetDir, `${name}.${randomUUID().replace(/-/g, '')}-delete`);
    try {
      cpSync(join(entry.parentDir, name), staging, { recursive: true });
      fsyncTree(staging);
      renameSync(staging, join(targetDir, name));
      fsyncDirectory(targetDir);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      // The original is intact: reopen it where it was.
      this.attach(
        entry,
        PartitionLog.open(join(entry.parentDir, name), config, { cleanShutdown: true, now }),
      );
      throw error;
    }
    const old = join(entry.parentDir, name);
    const moved: PartitionEntry = { topic, partition, parentDir: targetDir, log: undefined };
    this.attach(moved, PartitionLog.open(join(targetDir, name), config, { cleanShutdown: true, now }));
    this.partitions.set(name, moved);
    const doomed = join(entry.parentDir, `${name}.${randomUUID().replace(/-/g, '')}-delete`);
    renameSync(old, doomed);
    fsyncDirectory(entry.parentDir);
    void this.removeInBackground(doomed);
    return moved.log!;
  }

  /**
   * Removes a partition's log: closed, its dir renamed to `<name>.<uuid>-delete` (atomic, so a
   * restart never sees half a partition), then removed in the background. The promise settles
   * when the files are gone; it never rejects.
   */
  delete(topic: string, partition: number): Promise<void> {
    const name = partitionDirName(topic, partition);
    const entry = this.partitions.get(name);
    this.partitions.delete(name);
    if (!entry) return Promise.resolve();
    const { parentDir, log } = entry;
    if (this.offline.has(parentDir)) {
      log?.markOffline(this.offline.get(parentDir));
      return Promise.resolve();
    }
    try {
      // No flush: the data is going away. Later use of a stale reference throws.
      log?.markOffline(new Error('partition deleted'));
      const doomed = join(parentDir, `${name}.${randomUUID().replace(/-/g, '')}-delete`);
      renameSync(join(parentDir, name), doomed);
      fsyncDirectory(parentDir);
      return this.removeInBackground(doomed);
    } catch (error) {
      if (isStorageIoError(error)) this.failDir(parentDir, error);
      else this.logger.warn({ err: error, partition: name }, 'could not delete partition directory');
      return Promise.resolve();
    }
  }

  private removeInBackground(path: string): Promise<void> {
    const done = rm(path, { recursive: true, force: true }).catch((err: unknown) => {
      this.logger.warn({ err, path }, 'could not remove deleted partition directory');
    });
    this.pendingDeletes.add(done);
    void done.finally(() => this.pendingDeletes.delete(done));
    return done;
  }

  /** Resolves when background removals started so far are done. */
  async settled(): Promise<void> {
    await Promise.all([...this.pendingDeletes]);
  }

  // ---- housekeeping ----------------------------------------------------------------------

  private *onlineLogs(): Generator<[PartitionEntry, PartitionLog]> {
    for (const entry of this.partitions.values())
      if (entry.log && !entry.log.isOffline && !this.offline.has(entry.parentDir)) yield [entry, entry.log];
  }

  private upperBoundOf(entry: PartitionEntry, log: PartitionLog): number {
    const hw = this.highWatermarkOf?.(entry.topic, entry.partition);
    return hw === undefined ? log.logEndOffset : Math.min(hw, log.logEndOffset);
  }

  /** Runs `op` on each online log; a storage error has already failed that dir, so go on. */
  private forEachOnline(op: (entry: PartitionEntry, log: PartitionLog) => void): void {
    for (const [entry, log] of [...this.onlineLogs()]) {
      try {
        op(entry, log);
      } catch (error) {
        if (error instanceof KafkaStorageError) continue;
        this.logger.error({ err: error, topic: entry.topic, partition: entry.partition }, 'log task failed');
      }
    }
  }

  /** Retention for every log; returns segments deleted. */
  applyRetention(now: number): number {
    let deleted = 0;
    this.forEachOnline((entry, log) => {
      deleted += log.applyRetention(now, this.upperBoundOf(entry, log));
    });
    return deleted;
  }

  /**
   * Bytes the online logs hold (their segments' sizes, known in memory: no directory walk), what
   * the instance's disk budget counts.
   */
  usedBytes(): number {
    let total = 0;
    for (const [, log] of this.onlineLogs()) total += log.sizeInBytes;
    return total;
  }

  /**
   * Deletes the oldest closed segments across every log until usage is below `highWaterBytes`
   * (planDiskTrim decides which), through retention's deletion path and within its bounds. Logs
   * of topics `keep` names are left whole. Returns what went and what is left.
   */
  trimBelow(
    highWaterBytes: number,
    keep: (topic: string) => boolean,
  ): { segments: number; freedBytes: number; usedBytes: number } {
    const used = this.usedBytes();
    if (used < highWaterBytes) return { segments: 0, freedBytes: 0, usedBytes: used };
    const logs = new Map<string, [PartitionEntry, PartitionLog]>();
    const candidates: TrimCandidate[] = [];
    for (const [name, entry] of this.partitions) {
      const log = entry.log;
      if (!log || log.isOffline || this.offline.has(entry.parentDir) || keep(entry.topic)) continue;
      logs.set(name, [entry, log]);
      candidates.push({ key: name, segments: log.deletableSegments(this.upperBoundOf(entry, log)) });
    }
    const plan = planDiskTrim(used, highWaterBytes, candidates);
    let segments = 0;
    for (const [name, count] of plan.deletions) {
      const [entry, log] = logs.get(name)!;
      try {
        segments += log.deleteOldestSegments(count, this.upperBoundOf(entry, log));
      } catch (error) {
        if (!(error instanceof KafkaStorageError)) throw error;
      }
    }
    const after = this.usedBytes();
    return { segments, freedBytes: used - after, usedBytes: after };
  }

  /** flush.ms / flush.messages for every log. */
  flushDirtyLogs(now: number): void {
    this.forEachOnline((_, log) => log.maybeFlush(now));
  }

  /** Writes every log's checkpoint that changed (recovery points advance with flushes). */
  checkpointLogs(): void {
    this.forEachOnline((_, log) => log.checkpoint());
  }

  /** One cleaner pass over the dirtiest compacted log, if any is due. */
  async cleanLogs(now: number): Promise<void> {
    if (!this.cleaner) return;
    const bounds = new Map<PartitionLog, number>();
    for (const [entry, log] of this.onlineLogs()) {
      const lso = this.lastStableOffsetOf?.(entry.topic, entry.partition);
      const hw = this.upperBoundOf(entry, log);
      bounds.set(log, lso === undefined ? hw : Math.min(hw, lso));
    }
    try {
      const done = await this.cleaner.cleanFilthiest(bounds.keys(), now, (log) => bounds.get(log)!);
      if (done) this.logger.info({ dir: done.log.dir, ...done.result }, 'cleaned log');
    } catch (error) {
      if (!(error instanceof KafkaStorageError)) this.logger.error({ err: error }, 'log cleaner pass failed');
    }
  }

  /** Probes each online dir; one that vanished or stopped being writable goes offline. */
  checkDirs(): void {
    for (const dir of this.dirs) {
      if (this.offline.has(dir)) continue;
      try {
        if (!statSync(dir).isDirectory())
          throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
        accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
      } catch (error) {
        this.failDir(dir, error);
      }
    }
  }

  /** Starts the background work on `scheduler`; returns a function that stops it. */
  schedule(scheduler: Scheduler, intervals: Partial<StorageIntervals> = {}): () => void {
    const i = { ...DEFAULT_STORAGE_INTERVALS, ...intervals };
    const cancels = [
      scheduler.schedule('log-retention', i.retentionCheckMs, () => {
        this.applyRetention(scheduler.now());
      }),
      scheduler.schedule('log-flusher', i.flushCheckMs, () => this.flushDirtyLogs(scheduler.now())),
      scheduler.schedule('log-checkpoint', i.checkpointMs, () => this.checkpointLogs()),
      scheduler.schedule('log-dir-check', i.dirCheckMs, () => this.checkDirs()),
    ];
    if (this.cleaner) {
      this.scheduleCleaner(scheduler, i.cleanerBackoffMs);
      cancels.push(() => this.cleanerTask?.cancel());
    }
    this.cancels.push(...cancels);
    return () => {
      for (const c of cancels) c();
    };
  }

  /** log.cleaner.backoff.ms changed (a dynamic broker config): passes follow the new period. */
  setCleanerBackoff(backoffMs: number): void {
    const task = this.cleanerTask;
    if (!task || task.backoffMs === backoffMs) return;
    task.cancel();
    this.scheduleCleaner(task.scheduler, backoffMs);
  }

  private scheduleCleaner(scheduler: Scheduler, backoffMs: number): void {
    const cancel = scheduler.schedule('log-cleaner', backoffMs, () => this.cleanLogs(scheduler.now()));
    this.cleanerTask = { scheduler, backoffMs, cancel };
  }

  // ---- failures --------------------------------------------------------------------------

  /** Subscribes to dir failures; returns the unsubscribe function. */
  onDirOffline(listener: (event: DirOfflineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  isDirOnline(dir: string): boolean {
    return this.dirs.includes(dir) && !this.offline.has(dir);
  }

  offlineDirs(): string[] {
    return [...this.offline.keys()];
  }

  /** The dir's `directory.id` from meta.properties (undefined for a dir offline at start-up). */
  directoryId(dir: string): string | undefined {
    return this.directoryIds.get(dir);
  }

  /**
   * Takes `dir` offline (Kafka's LogDirFailureChannel): every log in it stops, and listeners
   * learn which partitions went with it. Other dirs are untouched.
   */
  failDir(dir: string, error: unknown): void {
    if (this.offline.has(dir)) return;
    this.offline.set(dir, error);
    const partitions: TopicPartition[] = [];
    for (const entry of this.partitions.values()) {
      if (entry.parentDir !== dir) continue;
      entry.log?.markOffline(error);
      partitions.push({ topic: entry.topic, partition: entry.partition });
    }
    this.logger.error(
      { err: error, dir, partitions: partitions.length },
      'log dir failed; its partitions are offline',
    );
    const event: DirOfflineEvent = { dir, error, partitions };
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err }, 'log dir failure listener threw');
      }
    }
  }

  // ---- shutdown --------------------------------------------------------------------------

  /**
   * Stops background work, flushes and closes every log, and marks each dir whose logs all
   * closed cleanly, so the next start can skip recovery there.
   */
  shutdown(now: number): void {
    for (const cancel of this.cancels.splice(0)) cancel();
    const failedClose = new Set<string>();
    for (const [entry, log] of [...this.onlineLogs()]) {
      try {
        log.close(now);
      } catch (error) {
        failedClose.add(entry.parentDir);
        if (!(error instanceof KafkaStorageError))
          this.logger.error({ err: error, dir: log.dir }, 'could not close log cleanly');
      }
    }
    for (const entry of this.partitions.values()) entry.log = undefined;
    this.partitions.clear();
    for (const dir of this.dirs) {
      if (this.offline.has(dir) || failedClose.has(dir)) continue;
      try {
        writeFileDurably(join(dir, CLEAN_SHUTDOWN_FILE), '');
      } catch (error) {
        this.logger.warn({ err: error, dir }, 'could not write the clean shutdown marker');
      }
    }
  }
}
