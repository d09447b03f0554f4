import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/storage/LogConfig.js';
import { PartitionLog } from '../../src/storage/PartitionLog.js';
import { batchOf, readAll, SMALL_LOG, simulateCrash, tempDir } from './helpers.js';

/** Reopens `dir` as after a crash: `log`, which had it open, stops writing first. */
const crash = (dir: string, config: LogConfig = DEFAULT_LOG_CONFIG, log?: PartitionLog) => {
  if (log) simulateCrash(log);
  return PartitionLog.open(dir, config, { cleanShutdown: false, now: 0 });
};

const logFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();

/** Appends `count` one-record batches of varied sizes; returns each batch's end position in its file. */
function appendBatches(log: PartitionLog, count: number, from = 0): number[] {
  const ends: number[] = [];
  let position = 0;
  for (let i = from; i < from + count; i++) {
    const b = batchOf([`v${i}`.padEnd(5 + ((i * 37) % 90), '~')]);
    log.append(b, 0, 0);
    position += b.length;
    ends.push(position);
  }
  return ends;
}

const expectedRecords = (n: number, from = 0) =>
  Array.from(
    { length: n },
    (_, i) => `${from + i}:${`v${from + i}`.padEnd(5 + (((from + i) * 37) % 90), '~')}`,
  );

describe('crash recovery', () => {
  it('cuts a torn tail at any byte and keeps exactly the whole batches before it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 25 }), fc.nat(), (count, cutSeed) => {
        const dir = tempDir();
        const log = PartitionLog.open(dir, DEFAULT_LOG_CONFIG, { cleanShutdown: true, now: 0 });
        const ends = appendBatches(log, count);
        const file = join(dir, logFiles(dir)[0]!);
        const size = statSync(file).size;
        const cut = cutSeed % (size + 1);
        truncateSync(file, cut);
        const survivors = ends.filter((e) => e <= cut).length;
        const reopened = crash(dir, DEFAULT_LOG_CONFIG, log);
        expect(reopened.logEndOffset).toBe(survivors);
        expect(readAll(reopened)).toEqual(expectedRecords(survivors));
        expect(statSync(file).size).toBe(survivors === 0 ? 0 : ends[survivors - 1]);
        // The log carries on from there, and the torn bytes never come back.
        reopened.append(batchOf(['after']), 0, 0);
        reopened.close(0);
        expect(readAll(crash(dir)).slice(-1)).toEqual([`${survivors}:after`]);
      }),
      { numRuns: 60 },
    );
  });

  it('stops at a batch whose CRC-covered bytes were damaged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.nat(), fc.nat(), (count, batchSeed, byteSeed) => {
        const dir = tempDir();
        const log = PartitionLog.open(dir, DEFAULT_LOG_CONFIG, { cleanShutdown: true, now: 0 });
        const ends = appendBatches(log, count);
        const victim = batchSeed % count;
        const start = victim === 0 ? 0 : ends[victim - 1]!;
        // Bytes 21.. of a batch (attributes to the end) are covered by its CRC-32C.
        const at = start + 21 + (byteSeed % (ends[victim]! - start - 21));
        const file = join(dir, logFiles(dir)[0]!);
        const fd = openSync(file, 'r+');
        const byte = Buffer.alloc(1);
        readSync(fd, byte, 0, 1, at);
        byte[0] = byte[0]! ^ 0x5a;
        writeSync(fd, byte, 0, 1, at);
        closeSync(fd);
        const reopened = crash(dir, DEFAULT_LOG_CONFIG, log);
        expect(reopened.logEndOffset).toBe(victim);
        expect(readAll(reopened)).toEqual(expectedRecords(victim));
        expect(reopened.truncatedOnLoad).toBe(ends[count - 1]! - start);
      }),
      { numRuns: 60 },
    );
  });

  it('treats a damaged length or magic field as the end of the log', () => {
    for (const [offsetInBatch, value] of [
      [8, 0x7f], // batch length far past the end of the file
      [11, 0x00], // batch length too small for a header
      [16, 0x01], // magic 1 in a v2 log
    ] as const) {
      const dir = tempDir();
      const log = PartitionLog.open(dir, DEFAULT_LOG_CONFIG, { cleanShutdown: true, now: 0 });
      const ends = appendBatches(log, 6);
      const fd = openSync(join(dir, logFiles(dir)[0]!), 'r+');
      writeSync(fd, Buffer.from([value]), 0, 1, ends[3]! + offsetInBatch);
      closeSync(fd);
      expect(readAll(crash(dir, DEFAULT_LOG_CONFIG, log))).toEqual(expectedRecords(4));
    }
  });

  it('never loses what was flushed when an unflushed tail is torn across several segments', () => {
    const dir = tempDir();
    const log = PartitionLog.open(dir, SMALL_LOG, { cleanShutdown: true, now: 0 });
    appendBatches(log, 12);
    log.flush();
    const flushed = log.logEndOffset;
    appendBatches(log, 10, 12); // rolls: earlier segments get fsynced, the last stays dirty
    const files = logFiles(dir);
    const last = join(dir, files[files.length - 1]!);
    truncateSync(last, Math.max(0, statSync(last).size - 3));
    const reopened = crash(dir, SMALL_LOG, log);
    expect(reopened.logEndOffset).toBeGreaterThanOrEqual(flushed);
    expect(reopened.logEndOffset).toBeLessThan(22);
    expect(readAll(reopened)).toEqual([
      ...expectedRecords(12),
      ...expectedRecords(reopened.logEndOffset - 12, 12),
    ]);
  });

  it('drops every segment after a corrupt one', () => {
    const dir = tempDir();
    const log = PartitionLog.open(dir, SMALL_LOG, { cleanShutdown: true, now: 0 });
    appendBatches(log, 20);
    const files = logFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    // Damage the second segment, then pretend nothing was ever flushed so recovery checks it.
    const fd = openSync(join(dir, files[1]!), 'r+');
    writeSync(fd, Buffer.from([0xee]), 0, 1, 40);
    closeSync(fd);
    writeFileSync(
      join(dir, 'partition-checkpoint'),
      '0\nlog-start-offset 0\nrecovery-point 0\ncleaner-offset 0\n',
    );
    const reopened = crash(dir, SMALL_LOG, log);
    const secondBase = Number(files[1]!.slice(0, 20));
    expect(reopened.logEndOffset).toBe(secondBase);
    expect(logFiles(dir)).toEqual([files[0], files[1]]);
    expect(readAll(reopened)).toEqual(expectedRecords(secondBase));
  });

  it('rebuilds deleted or damaged indexes of flushed segments', () => {
    const dir = tempDir();
    const log = PartitionLog.open(dir, SMALL_LOG, { cleanShutdown: true, now: 0 });
    appendBatches(log, 30);
    log.close(0);
    const indexes = readdirSync(dir).filter((f) => f.endsWith('.index'));
    rmSync(join(dir, indexes[0]!));
    writeFileSync(join(dir, indexes[1]!), 'not an index');
    rmSync(join(dir, indexes[2]!.replace('.index', '.timeindex')));
    const reopened = PartitionLog.open(dir, SMALL_LOG, { cleanShutdown: true, now: 0 });
    expect(readAll(reopened)).toEqual(expectedRecords(30));
    for (let o = 0; o < 30; o += 7) expect(readAll(reopened, o)[0]).toBe(expectedRecords(1, o)[0]);
    reopened.close(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.index'))).toEqual(indexes);
  });

  it('removes leftovers of interrupted operations', () => {
    const dir = tempDir();
    const log = PartitionLog.open(dir, SMALL_LOG, { cleanShutdown: true, now: 0 });
    appendBatches(log, 10);
    log.close(0);
    const first = logFiles(dir)[0]!;
    copyFileSync(join(dir, first), join(dir, `${first}.cleaned`));
    copyFileSync(join(dir, first), join(dir, `${first}.deleted`));
    writeFileSync(join(dir, '00000000000000000000.index.swap'), Buffer.alloc(8));
    writeFileSync(join(dir, 'partition-checkpoint.tmp'), 'half');
    writeFileSync(join(dir, '00000000000000099999.index'), Buffer.alloc(8));
    const reopened = PartitionLog.open(dir, SMALL_LOG, { cleanShutdown: true, now: 0 });
    expect(readAll(reopened)).toEqual(expectedRecords(10));
    const left = readdirSync(dir);
    expect(left.filter((f) => /cleaned|deleted|swap|tmp|99999/.test(f))).toEqual([]);
    expect(existsSync(join(dir, first))).toBe(true);
  });

  it('loads with asynchronous reads to the same result', async () => {
    const dir = tempDir();
    const log = PartitionLog.open(dir, SMALL_LOG, { cleanShutdown: true, now: 0 });
    appendBatches(log, 15);
    const files = logFiles(dir);
    truncateSync(join(dir, files[files.length - 1]!), statSync(join(dir, files[files.length - 1]!)).size - 1);
    simulateCrash(log);
    const sync = readAll(crash(tempDirCopy(dir), SMALL_LOG));
    const reopened = await PartitionLog.openAsync(dir, SMALL_LOG, { cleanShutdown: false, now: 0 });
    expect(readAll(reopened)).toEqual(sync);
    expect(reopened.logEndOffset).toBe(14);
  });
});

function tempDirCopy(dir: string): string {
  const copy = tempDir();
  for (const f of readdirSync(dir)) copyFileSync(join(dir, f), join(copy, f));
  return copy;
}
