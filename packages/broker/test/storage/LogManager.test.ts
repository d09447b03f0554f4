import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { KafkaStorageError } from '../../src/storage/errors.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/storage/LogConfig.js';
import { CLEAN_SHUTDOWN_FILE, type DirOfflineEvent, LogManager } from '../../src/storage/LogManager.js';
import { ManualScheduler } from '../../src/storage/Scheduler.js';
import { batchOf, readAll, SMALL_LOG, simulateCrash, tempDir } from './helpers.js';

const silent = pino({ level: 'silent' });

function dirs(n: number): string[] {
  const root = tempDir('fjord-logdirs-');
  return Array.from({ length: n }, (_, i) => join(root, `d${i}`));
}

function manager(logDirs: string[], options: ConstructorParameters<typeof LogManager>[2] = {}): LogManager {
  const m = new LogManager(logDirs, silent, options);
  m.startup();
  return m;
}

describe('LogManager placement and loading', () => {
  it('places new partitions in the dir holding the fewest and writes meta.properties per dir', () => {
    const logDirs = dirs(3);
    const m = manager(logDirs, { clusterId: 'c1', nodeId: 4 });
    for (let p = 0; p < 6; p++) m.getOrCreate('orders', p, DEFAULT_LOG_CONFIG, 0);
    const perDir = logDirs.map((d) => readdirSync(d).filter((f) => f.startsWith('orders-')).length);
    expect(perDir).toEqual([2, 2, 2]);
    expect(m.dirOf('orders', 4)).toBe(logDirs[1]);
    for (const d of logDirs) {
      const meta = readFileSync(join(d, 'meta.properties'), 'utf8');
      expect(meta).toMatch(/^version=1$/m);
      expect(meta).toMatch(/^cluster\.id=c1$/m);
      expect(meta).toMatch(/^node\.id=4$/m);
      expect(m.directoryId(d)).toBe(/^directory\.id=(.+)$/m.exec(meta)![1]);
    }
    m.shutdown(0);
    expect(() => manager(logDirs, { clusterId: 'other' })).toThrow(/belongs to cluster c1/);
  });

  it('keeps what the broker wrote in meta.properties and adds the directory id', () => {
    const [dir] = dirs(1) as [string];
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'meta.properties'), 'version=1\ncluster.id=abc\n');
    const m = manager([dir]);
    const text = readFileSync(join(dir, 'meta.properties'), 'utf8');
    expect(text.startsWith('version=1\ncluster.id=abc\ndirectory.id=')).toBe(true);
    const id = m.directoryId(dir);
    m.shutdown(0);
    expect(manager([dir]).directoryId(dir)).toBe(id);
  });

  it('loads every partition of every dir at start-up, recovering torn tails after a crash', async () => {
    const logDirs = dirs(2);
    const before = manager(logDirs);
    const expected = new Map<string, string[]>();
    for (let p = 0; p < 4; p++) {
      const log = before.getOrCreate('t', p, SMALL_LOG, 0);
      for (let i = 0; i < 10; i++) log.append(batchOf([`p${p}-${i}`]), 0, 0);
      expected.set(`t-${p}`, readAll(log));
    }
    // Crash: no shutdown. Tear the last batch of partition 1.
    simulateCrash(...[...before.all()].map(([, log]) => log));
    const dir1 = join(before.dirOf('t', 1)!, 't-1');
    const tail = readdirSync(dir1)
      .filter((f) => f.endsWith('.log'))
      .sort()
      .pop()!;
    truncateSync(join(dir1, tail), statSync(join(dir1, tail)).size - 2);

    const after = new LogManager(logDirs, silent);
    const found = after.startup();
    expect(found.map((f) => `${f.topic}-${f.partition}`).sort()).toEqual(['t-0', 't-1', 't-2', 't-3']);
    const { loaded, truncatedBytes } = await after.loadLogs(() => SMALL_LOG);
    expect(loaded).toBe(4);
    expect(truncatedBytes).toBeGreaterThan(0);
    for (let p = 0; p < 4; p++) {
      const log = after.getOrCreate('t', p, SMALL_LOG, 0);
      expect(readAll(log)).toEqual(p === 1 ? expected.get('t-1')!.slice(0, 9) : expected.get(`t-${p}`));
    }
    after.shutdown(0);
    for (const d of logDirs) expect(existsSync(join(d, CLEAN_SHUTDOWN_FILE))).toBe(true);
    // After a clean shutdown the marker is consumed at start-up.
    const again = manager(logDirs);
    for (const d of logDirs) expect(existsSync(join(d, CLEAN_SHUTDOWN_FILE))).toBe(false);
    again.shutdown(0);
  });

  it('deletes a partition by renaming its dir, then removing it in the background', async () => {
    const logDirs = dirs(1);
    const m = manager(logDirs);
    const log = m.getOrCreate('gone', 0, DEFAULT_LOG_CONFIG, 0);
    log.append(batchOf(['x']), 0, 0);
    const removal = m.delete('gone', 0);
    const renamed = readdirSync(logDirs[0]!).filter((f) => f.startsWith('gone-0'));
    expect(renamed).toHaveLength(1);
    expect(renamed[0]).toMatch(/^gone-0\.[0-9a-f]{32}-delete$/);
    await removal;
    expect(readdirSync(logDirs[0]!).some((f) => f.startsWith('gone-0'))).toBe(false);
    expect(m.get('gone', 0)).toBeUndefined();
    expect(() => log.append(batchOf(['y']), 0, 0)).toThrow(KafkaStorageError);
    // Leftovers of a deletion interrupted by a crash are removed at start-up.
    mkdirSync(join(logDirs[0]!, `x-1.${'a'.repeat(32)}-delete`));
    const next = new LogManager(logDirs, silent);
    expect(next.startup()).toEqual([]);
    await next.settled();
    expect(readdirSync(logDirs[0]!).some((f) => f.endsWith('-delete'))).toBe(false);
  });
});

describe('LogManager dir failures', () => {
  it('takes only the failed dir offline and reports its partitions', () => {
    const logDirs = dirs(2);
    const m = manager(logDirs);
    const events: DirOfflineEvent[] = [];
    m.onDirOffline((e) => events.push(e));
    const logs = [0, 1, 2, 3].map((p) => m.getOrCreate('t', p, SMALL_LOG, 0));
    for (const log of logs) log.append(batchOf(['before']), 0, 0);
    const [broken, healthy] = logDirs as [string, string];
    rmSync(broken, { recursive: true, force: true });
    m.checkDirs();
    expect(events).toHaveLength(1);
    expect(events[0]!.dir).toBe(broken);
    expect(events[0]!.partitions.map((p) => p.partition).sort()).toEqual([0, 2]);
    expect(m.offlineDirs()).toEqual([broken]);
    expect(m.isDirOnline(healthy)).toBe(true);
    for (const p of [0, 2]) {
      expect(() => logs[p]!.append(batchOf(['after']), 0, 0)).toThrow(KafkaStorageError);
      expect(() => logs[p]!.read(0, 100)).toThrow(KafkaStorageError);
      expect(() => m.getOrCreate('t', p, SMALL_LOG, 0).read(0, 100)).toThrow(KafkaStorageError);
    }
    for (const p of [1, 3]) {
      logs[p]!.append(batchOf(['after']), 0, 0);
      expect(readAll(logs[p]!)).toEqual(['0:before', '1:after']);
    }
    // New partitions go to the dirs still online; housekeeping skips the failed one.
    expect(m.dirOf('u', 0)).toBeUndefined();
    m.getOrCreate('u', 0, SMALL_LOG, 0);
    expect(m.dirOf('u', 0)).toBe(healthy);
    expect(m.applyRetention(0)).toBe(0);
    m.shutdown(0);
    expect(existsSync(join(healthy, CLEAN_SHUTDOWN_FILE))).toBe(true);
  });

  it('notices an I/O error during an operation (a roll into a vanished dir)', () => {
    const logDirs = dirs(2);
    const m = manager(logDirs);
    const events: DirOfflineEvent[] = [];
    m.onDirOffline((e) => events.push(e));
    const log = m.getOrCreate('t', 0, SMALL_LOG, 0);
    const other = m.getOrCreate('t', 1, SMALL_LOG, 0);
    rmSync(m.dirOf('t', 0)!, { recursive: true, force: true });
    // Appends into the open file still succeed; the roll needs a new file and fails.
    expect(() => {
      for (let i = 0; i < 20; i++) log.append(batchOf([`v${i}`.repeat(20)]), 0, 0);
    }).toThrow(KafkaStorageError);
    expect(log.isOffline).toBe(true);
    expect(events.map((e) => e.partitions)).toEqual([[{ topic: 't', partition: 0 }]]);
    other.append(batchOf(['fine']), 0, 0);
    expect(readAll(other)).toEqual(['0:fine']);
  });

  it('starts with a dir offline when it cannot be used, and carries on with the rest', async () => {
    const logDirs = dirs(2);
    const first = manager(logDirs);
    first.getOrCreate('a', 0, DEFAULT_LOG_CONFIG, 0).append(batchOf(['x']), 0, 0);
    first.getOrCreate('a', 1, DEFAULT_LOG_CONFIG, 0).append(batchOf(['y']), 0, 0);
    first.shutdown(0);
    const bad = first.dirOf('a', 0) ?? logDirs[0]!;
    rmSync(logDirs[0]!, { recursive: true, force: true });
    writeFileSync(logDirs[0]!, 'a file where a dir should be');
    const m = new LogManager(logDirs, silent);
    const found = m.startup();
    expect(m.offlineDirs()).toEqual([logDirs[0]]);
    expect(found.map((f) => `${f.topic}-${f.partition}`)).toEqual(['a-1']);
    await m.loadLogs(() => DEFAULT_LOG_CONFIG);
    expect(readAll(m.get('a', 1)!)).toEqual(['0:y']);
    expect(bad).toBe(logDirs[0]);
  });
});

describe('LogManager background work', () => {
  it('runs retention, flushes, checkpoints, cleaning and dir checks on the injected scheduler', async () => {
    const logDirs = dirs(2);
    const m = manager(logDirs);
    const scheduler = new ManualScheduler(0);
    m.schedule(scheduler, {
      retentionCheckMs: 1_000,
      flushCheckMs: 100,
      checkpointMs: 500,
      cleanerBackoffMs: 200,
      dirCheckMs: 300,
    });
    expect(scheduler.scheduled().sort()).toEqual([
      'log-checkpoint',
      'log-cleaner',
      'log-dir-check',
      'log-flusher',
      'log-retention',
    ]);
    const retained = m.getOrCreate('events', 0, { ...SMALL_LOG, retentionMs: 5_000, flushMs: 150 }, 0);
    const compacted = m.getOrCreate(
      'state',
      0,
      {
        ...SMALL_LOG,
        cleanupPolicy: { delete: false, compact: true },
      } satisfies LogConfig,
      0,
    );
    for (let i = 0; i < 20; i++) {
      retained.append(batchOf([`e${i}`], { timestamp: 1_000 }), 0, 0);
      compacted.append(batchOf([{ key: `k${i % 2}`, value: `v${i}` }], { timestamp: 0 }), 0, 0);
    }
    const segments = retained.segmentCount;
    const stateRecords = readAll(compacted).length;
    await scheduler.advance(999);
    expect(retained.flushedOffset).toBe(retained.logEndOffset); // flush.ms
    expect(retained.segmentCount).toBe(segments);
    expect(readAll(compacted).length).toBeLessThan(stateRecords); // cleaner
    await scheduler.advance(6_002);
    expect(retained.segmentCount).toBe(1); // retention.ms
    expect(retained.logStartOffset).toBe(retained.segmentBaseOffsets()[0]);
    expect(readFileSync(join(retained.dir, 'partition-checkpoint'), 'utf8')).toContain(
      `log-start-offset ${retained.logStartOffset}`,
    );
    // A dir that disappears is noticed by the periodic check.
    const events: DirOfflineEvent[] = [];
    m.onDirOffline((e) => events.push(e));
    rmSync(m.dirOf('state', 0)!, { recursive: true, force: true });
    await scheduler.advance(300);
    expect(events.map((e) => e.partitions.map((p) => p.topic))).toEqual([['state']]);
    expect(scheduler.errors).toEqual([]);
    m.shutdown(0);
    expect(scheduler.scheduled()).toEqual([]);
  });

  it('bounds retention by the high watermark the replica layer reports', () => {
    const m = manager(dirs(1));
    const log = m.getOrCreate('t', 0, { ...SMALL_LOG, retentionMs: 0 }, 0);
    for (let i = 0; i < 20; i++) log.append(batchOf([`v${i}`], { timestamp: 1 }), 0, 0);
    const bases = log.segmentBaseOffsets();
    m.highWatermarkOf = () => bases[2];
    expect(bases.length).toBeGreaterThan(3);
    m.applyRetention(1_000);
    expect(log.segmentBaseOffsets()[0]).toBe(bases[2]);
    m.highWatermarkOf = undefined;
    m.applyRetention(1_000);
    expect(log.segmentCount).toBe(1);
  });
});
