import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedLogConfig } from './LogConfig.js';
import {
  CLEANED_SUFFIX,
  DELETED_SUFFIX,
  LOG_SUFFIX,
  parseSegmentFileName,
  SEGMENT_FILE_SUFFIXES,
  SWAP_SUFFIX,
  segmentFilePath,
  TMP_SUFFIX,
} from './LogFileNames.js';
import { LogSegment, type SegmentSettings } from './LogSegment.js';
import {
  PARTITION_CHECKPOINT_FILE,
  type PartitionCheckpointState,
  readPartitionCheckpoint,
} from './PartitionCheckpoint.js';

export interface LogLoadOptions {
  /** The directory's clean-shutdown marker was present: trust every segment. */
  readonly cleanShutdown: boolean;
  readonly now: number;
}

/** What loading found: the segments in offset order and the offsets the log resumes with. */
export interface LoadedLog {
  readonly segments: LogSegment[];
  readonly logStartOffset: number;
  readonly recoveryPoint: number;
  readonly cleanerOffset: number;
  readonly highWatermark: number;
  /** Bytes cut from torn or corrupt tails (and whole segments dropped after them). */
  readonly truncatedBytes: number;
  /** The checkpoint file as found, when there was one (so an unchanged one is not rewritten). */
  readonly checkpointOnDisk: PartitionCheckpointState | undefined;
}

/**
 * Opens a partition directory the way Kafka's LogLoader does: finish or undo interrupted
 * operations (`.cleaned` / `.swap` / `.deleted` files), then load segments. After an unclean
 * shutdown, segments from the one holding the recovery point on are checked batch by batch; at
 * the first torn or corrupt batch the file is cut and every later segment removed. Segments
 * before the recovery point were fsynced and are trusted, with indexes rebuilt if unusable.
 */
export class LogLoader {
  private readonly checkpoint: PartitionCheckpointState;
  private readonly checkpointFound: boolean;
  private readonly settings: SegmentSettings;

  constructor(
    private readonly dir: string,
    config: ResolvedLogConfig,
    private readonly options: LogLoadOptions,
  ) {
    mkdirSync(dir, { recursive: true });
    this.checkpointFound = existsSync(join(dir, PARTITION_CHECKPOINT_FILE));
    this.checkpoint = readPartitionCheckpoint(dir);
    this.settings = {
      indexIntervalBytes: config.indexIntervalBytes,
      segmentIndexBytes: config.segmentIndexBytes,
    };
  }

  load(): LoadedLog {
    const segments = this.openSegments();
    let truncatedBytes = 0;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const cut = this.needsRecovery(segments, i)
        ? segment.recover()
        : segment.loadTrusted()
          ? 0
          : segment.recover();
      if (cut > 0) {
        truncatedBytes += cut + this.dropAfter(segments, i);
        break;
      }
    }
    return this.finish(segments, truncatedBytes);
  }

  /** load() with asynchronous reads for the batch-by-batch checks, so dirs load side by side. */
  async loadAsync(): Promise<LoadedLog> {
    const segments = this.openSegments();
    let truncatedBytes = 0;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const cut = this.needsRecovery(segments, i)
        ? await segment.recoverAsync()
        : segment.loadTrusted()
          ? 0
          : await segment.recoverAsync();
      if (cut > 0) {
        truncatedBytes += cut + this.dropAfter(segments, i);
        break;
      }
    }
    return this.finish(segments, truncatedBytes);
  }

  /** Kafka re-checks the segment holding the recovery point and all later ones. */
  private needsRecovery(segments: readonly LogSegment[], i: number): boolean {
    if (this.options.cleanShutdown) return false;
    const next = segments[i + 1];
    return next === undefined || next.baseOffset > this.checkpoint.recoveryPoint;
  }

  /** Deletes the segments after index `i` (unreachable once `i` was cut); returns their bytes. */
  private dropAfter(segments: LogSegment[], i: number): number {
    let bytes = 0;
    for (const s of segments.splice(i + 1)) {
      bytes += s.size;
      s.delete();
    }
    return bytes;
  }

  private openSegments(): LogSegment[] {
    this.removeLeftovers();
    this.completeSwaps();
    const bases: number[] = [];
    for (const name of readdirSync(this.dir)) {
      const parsed = parseSegmentFileName(name);
      if (parsed?.state !== '') continue;
      if (parsed.kind === LOG_SUFFIX) bases.push(parsed.baseOffset);
      else if (!existsSync(segmentFilePath(this.dir, parsed.baseOffset, LOG_SUFFIX)))
        rmSync(join(this.dir, name), { force: true }); // an index whose log is gone
    }
    bases.sort((a, b) => a - b);
    return bases.map((base) => LogSegment.open(this.dir, base, this.settings));
  }

  /** Temporary files of interrupted writes, and half-built or condemned segment files. */
  private removeLeftovers(): void {
    for (const name of readdirSync(this.dir)) {
      const parsed = parseSegmentFileName(name);
      const stale =
        name.endsWith(TMP_SUFFIX) ||
        parsed?.state === CLEANED_SUFFIX ||
        parsed?.state === DELETED_SUFFIX ||
        // Index swaps count only next to a log swap: the log file is renamed last.
        (parsed?.state === SWAP_SUFFIX &&
          parsed.kind !== LOG_SUFFIX &&
          !existsSync(segmentFilePath(this.dir, parsed.baseOffset, LOG_SUFFIX) + SWAP_SUFFIX));
      if (stale) rmSync(join(this.dir, name), { force: true });
    }
  }

  /**
   * A `.log.swap` is a cleaned segment that was complete and fsynced before it was renamed:
   * the cleaner's commit point. Finish the swap: the segments whose offsets it covers go, and
   * its files take their final names.
   */
  private completeSwaps(): void {
    const swaps = readdirSync(this.dir)
      .map((name) => parseSegmentFileName(name))
      .filter((p) => p?.kind === LOG_SUFFIX && p.state === SWAP_SUFFIX)
      .map((p) => p!.baseOffset)
      .sort((a, b) => a - b);
    for (const base of swaps) {
      const swap = LogSegment.open(this.dir, base, this.settings, SWAP_SUFFIX);
      swap.rebuildIndexes();
      const end = swap.nextOffset;
      swap.closeQuietly();
      for (const name of readdirSync(this.dir)) {
        const parsed = parseSegmentFileName(name);
        if (parsed?.state === '' && parsed.baseOffset >= base && parsed.baseOffset < Math.max(end, base + 1))
          rmSync(join(this.dir, name), { force: true });
      }
      for (const kind of SEGMENT_FILE_SUFFIXES) {
        const from = segmentFilePath(this.dir, base, kind) + SWAP_SUFFIX;
        if (kind !== LOG_SUFFIX && existsSync(from)) renameSync(from, segmentFilePath(this.dir, base, kind));
      }
      renameSync(
        segmentFilePath(this.dir, base, LOG_SUFFIX) + SWAP_SUFFIX,
        segmentFilePath(this.dir, base, LOG_SUFFIX),
      );
    }
  }

  private finish(segments: LogSegment[], truncatedBytes: number): LoadedLog {
    // An empty segment can only sensibly be the active one.
    for (let i = segments.length - 2; i >= 0; i--) {
      if (segments[i]!.size === 0) segments.splice(i, 1)[0]!.delete();
    }
    let logStartOffset = Math.max(this.checkpoint.logStartOffset, segments[0]?.baseOffset ?? 0);
    const logEndOffset = segments.length > 0 ? segments[segments.length - 1]!.nextOffset : 0;
    if (segments.length === 0 || logStartOffset > logEndOffset) {
      // Nothing usable below the log start (e.g. everything was deleted, then a crash).
      for (const s of segments.splice(0)) s.delete();
      logStartOffset = Math.max(this.checkpoint.logStartOffset, logEndOffset);
      segments.push(LogSegment.create(this.dir, logStartOffset, this.settings, this.options.now));
    }
    const end = segments[segments.length - 1]!.nextOffset;
    // Only a flush may move the recovery point forward: a crash right after loading must
    // re-check whatever was recovered but not yet fsynced.
    const recoveryPoint = this.options.cleanShutdown ? end : Math.min(this.checkpoint.recoveryPoint, end);
    return {
      segments,
      logStartOffset,
      recoveryPoint,
      cleanerOffset: Math.min(Math.max(this.checkpoint.cleanerOffset, logStartOffset), end),
      highWatermark: Math.min(Math.max(this.checkpoint.highWatermark, logStartOffset), end),
      truncatedBytes,
      checkpointOnDisk: this.checkpointFound ? this.checkpoint : undefined,
    };
  }
}
