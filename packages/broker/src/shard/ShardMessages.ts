import type { PreparedRecords, PrepareOptions } from '../server/handlers/prepareProduceRecords.js';

/** Event loop → shard thread: one partition's records, in a buffer the shard now owns. */
export interface PrepareTask {
  readonly id: number;
  readonly records: Uint8Array;
  readonly opts: PrepareOptions;
}

/** Shard thread → event loop: the outcome; an ok outcome's data travels back as a view. */
export interface PrepareReply {
  readonly id: number;
  readonly result: PreparedOnWire;
}

export type PreparedOnWire =
  | Exclude<PreparedRecords, { kind: 'ok' }>
  | {
      readonly kind: 'ok';
      readonly data: Uint8Array;
      /** The data is a view of the task's own buffer, given back by transfer (else a copy). */
      readonly transferred: boolean;
      readonly recordCount: number;
      readonly batches: Extract<PreparedRecords, { kind: 'ok' }>['batches'];
    };

/** Shard thread → event loop when its own code failed (not a verdict on the records). */
export interface PrepareFailure {
  readonly id: number;
  readonly failure: string;
}
