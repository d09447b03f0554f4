import { join } from 'node:path';

/** File kinds of a segment, named after its base offset (Kafka's on-disk layout). */
export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const TXN_INDEX_SUFFIX = '.txnindex';
export const SEGMENT_FILE_SUFFIXES = [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX] as const;

/** Suffixes appended to a whole file name while it takes part in an operation. */
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';
export const DELETED_SUFFIX = '.deleted';
export const TMP_SUFFIX = '.tmp';

export function segmentFileName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

export function segmentFilePath(dir: string, baseOffset: number, suffix: string): string {
  return join(dir, segmentFileName(baseOffset, suffix));
}

/** `00000000000000000042.log.swap` → { baseOffset: 42, kind: '.log', state: '.swap' }. */
export function parseSegmentFileName(
  name: string,
): { baseOffset: number; kind: string; state: string } | undefined {
  const m = /^(\d{20})(\.log|\.index|\.timeindex|\.txnindex)(\.cleaned|\.swap|\.deleted)?$/.exec(name);
  if (!m) return undefined;
  return { baseOffset: Number(m[1]), kind: m[2]!, state: m[3] ?? '' };
}

/** The directory of partition `partition` of `topic` inside a log dir. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** `orders-3` → { topic: 'orders', partition: 3 }; `undefined` for anything else. */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | undefined {
  const m = /^(.+)-(\d+)$/.exec(name);
  if (!m) return undefined;
  return { topic: m[1]!, partition: Number(m[2]) };
}

/** Kafka marks partition dirs queued for deletion as `<topic>-<partition>.<uuid>-delete`. */
export function isDeletedPartitionDirName(name: string): boolean {
  return /^.+-\d+\.[0-9a-f]{32}-delete$/.test(name);
}
