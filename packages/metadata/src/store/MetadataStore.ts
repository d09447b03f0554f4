import type { MetadataLogEntry, MetadataRecord } from '../records.js';

/**
 * Where the metadata log lives. Standalone brokers use a local file; clustered brokers use
 * PostgreSQL, where appends are fenced by the controller lease epoch.
 */
/** The image at `offset`, as the records that rebuild it (see imageToRecords). */
export interface MetadataSnapshot {
  readonly offset: number;
  readonly records: readonly MetadataRecord[];
}

export interface MetadataStore {
  /** Appends records as one atomic batch; resolves to their log entries. */
  append(records: readonly MetadataRecord[]): Promise<MetadataLogEntry[]>;
  /** Entries with offset > `afterOffset`, in order. */
  readAfter(afterOffset: number): Promise<MetadataLogEntry[]>;
  close(): Promise<void>;
  /** The latest snapshot, where the store keeps them (log entries up to it may be gone). */
  latestSnapshot?(): Promise<MetadataSnapshot | undefined>;
}
