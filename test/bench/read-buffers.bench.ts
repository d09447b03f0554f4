/**
 * What a buffer allocated per read costs: reads of a page-cached file into a new buffer each time
 * against reads into one reused buffer (why fetches read into pooled buffers, docs/adr/0020).
 * Run: `npx tsx test/bench/read-buffers.bench.ts` (writes and removes a 512 MiB file in /tmp).
 */
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';

const PATH = `/tmp/fjord-read-buffers-${process.pid}`;
const SIZE = 512 << 20;
const fd = openSync(PATH, 'w+');
try {
  const block = randomFillSync(Buffer.allocUnsafe(1 << 20));
  for (let pos = 0; pos < SIZE; pos += block.length) writeSync(fd, block, 0, block.length, pos);
  console.error(
    `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log('| read size | buffer | MB/s (2 × 512 MiB, page cache warm) |\n|---|---|---:|');
  for (const chunk of [1 << 20, 10 << 20])
    for (const mode of ['new per read', 'reused', 'new per read', 'reused'] as const) {
      const reused = Buffer.allocUnsafe(chunk);
      const started = process.hrtime.bigint();
      for (let round = 0; round < 2; round++)
        for (let pos = 0; pos < SIZE; pos += chunk)
          readSync(fd, mode === 'reused' ? reused : Buffer.allocUnsafe(chunk), 0, chunk, pos);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      console.log(`| ${chunk >> 20} MiB | ${mode} | ${((2 * SIZE) / seconds / 1e6).toFixed(0)} |`);
    }
} finally {
  closeSync(fd);
  rmSync(PATH, { force: true });
}
