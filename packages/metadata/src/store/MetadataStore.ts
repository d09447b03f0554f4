import type { MetadataLogEntry, MetadataRecord } from '../records.js';

/**
 * Where the metadata log lives. Standalone brokers use a local file; clustered brokers use
 * PostgreSQL, where appends are fenced by the controller lease epoch.
 */
export interface MetadataStore {
  /** Appends records as one atomic batch; resolves to their log entries. */
  append(records: readonly MetadataRecord[]): Promise<MetadataLogEntry[]>;
  /** Entries with offset > `afterOffset`, in order. */
  readAfter(afterOffset: number): Promise<MetadataLogEntry[]>;
  close(): Promise<void>;
}
