import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '@fjord/protocol';
import type { MetadataLogEntry, MetadataRecord } from '../records.js';
import type { MetadataStore } from './MetadataStore.js';

/**
 * The metadata log of a standalone broker: one JSON line per record,
 * `{"o":offset,"c":crc32c,"r":record}`, fsynced per append batch. Metadata changes are rare
 * and small, so a readable format costs nothing; the CRC catches torn or damaged lines,
 * which recovery truncates away (a batch is acknowledged only after its fsync).
 */
export class LocalFileMetadataStore implements MetadataStore {
  private readonly fd: number;
  private entries: MetadataLogEntry[];
  private size: number;

  static readonly FILE_NAME = '__cluster_metadata.log';

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, LocalFileMetadataStore.FILE_NAME);
    this.fd = openSync(path, 'a+');
    const { entries, validBytes } = parseLog(readFileSync(path));
    this.entries = entries;
    this.size = validBytes;
    ftruncateSync(this.fd, validBytes);
  }

  get endOffset(): number {
    return this.entries.length === 0 ? -1 : this.entries[this.entries.length - 1]!.offset;
  }

  async append(records: readonly MetadataRecord[]): Promise<MetadataLogEntry[]> {
    let next = this.endOffset + 1;
    const added: MetadataLogEntry[] = [];
    const lines: string[] = [];
    for (const record of records) {
      const entry = { offset: next++, record };
      added.push(entry);
      lines.push(encodeLine(entry));
    }
    const bytes = Buffer.from(lines.join(''), 'utf8');
    writeSync(this.fd, bytes, 0, bytes.length, this.size);
    fsyncSync(this.fd);
    this.size += bytes.length;
    this.entries = this.entries.concat(added);
    return added;
  }

  async readAfter(afterOffset: number): Promise<MetadataLogEntry[]> {
    // Offsets are dense from 0, so the position in the array is the offset.
    return this.entries.slice(afterOffset + 1);
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }
}

function encodeLine(entry: MetadataLogEntry): string {
  const body = JSON.stringify(entry.record);
  return `{"o":${entry.offset},"c":${crc32c(Buffer.from(body, 'utf8'))},"r":${body}}\n`;
}

function parseLog(data: Buffer): { entries: MetadataLogEntry[]; validBytes: number } {
  const entries: MetadataLogEntry[] = [];
  let pos = 0;
  while (pos < data.length) {
    const nl = data.indexOf(0x0a, pos);
    if (nl < 0) break; // torn last line
    const entry = parseLine(data.toString('utf8', pos, nl), entries.length);
    if (!entry) break;
    entries.push(entry);
    pos = nl + 1;
  }
  return { entries, validBytes: pos };
}

function parseLine(line: string, expectedOffset: number): MetadataLogEntry | undefined {
  const m = /^\{"o":(\d+),"c":(\d+),"r":(.*)\}$/.exec(line);
  if (!m || Number(m[1]) !== expectedOffset) return undefined;
  if (crc32c(Buffer.from(m[3]!, 'utf8')) !== Number(m[2])) return undefined;
  try {
    return { offset: expectedOffset, record: JSON.parse(m[3]!) as MetadataRecord };
  } catch {
    return undefined;
  }
}
