import { closeSync, fsyncSync, openSync, read, readdirSync, readSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TMP_SUFFIX } from './LogFileNames.js';

/** Reads `length` bytes at `position`, fewer only at end of file. Positional: no seek state. */
export function readFullySync(fd: number, position: number, length: number, into?: Buffer): Buffer {
  const buf = into && into.length >= length ? into : Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === buf.length ? buf : buf.subarray(0, got);
}

/** The asynchronous twin of readFullySync, so loads of several disks overlap. */
export async function readFully(
  fd: number,
  position: number,
  length: number,
  into?: Buffer,
): Promise<Buffer> {
  const buf = into && into.length >= length ? into : Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = await new Promise<number>((resolve, reject) =>
      read(fd, buf, got, length - got, position + got, (err, bytes) => (err ? reject(err) : resolve(bytes))),
    );
    if (n === 0) break;
    got += n;
  }
  return got === buf.length ? buf : buf.subarray(0, got);
}

/** Writes all of `data` at `position` (writeSync may write less than asked). */
export function writeFullySync(fd: number, data: Uint8Array, position: number): void {
  let written = 0;
  while (written < data.length)
    written += writeSync(fd, data, written, data.length - written, position + written);
}

/** fsync of a directory makes creations, renames and deletions of its entries durable. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs every file below `dir`, then the directory itself (a copied partition made durable). */
export function fsyncTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) fsyncTree(path);
    else {
      const fd = openSync(path, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
  fsyncDirectory(dir);
}

/**
 * Replaces a small file so that after a crash it holds either the old or the new content:
 * write a temporary file, fsync it, rename over the target, fsync the directory.
 */
export function writeFileDurably(path: string, data: string | Uint8Array): void {
  const tmp = `${path}${TMP_SUFFIX}`;
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    writeFullySync(fd, bytes, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDirectory(dirname(path));
}
