import type { SinkRecord } from '../s3/objectLayout.js';

/** A record a sink cannot handle; `stage` is Kafka Connect's name of where it failed. */
export interface RecordFailure {
  readonly kind: 'failure';
  readonly record: SinkRecord;
  readonly stage: 'KEY_CONVERTER' | 'VALUE_CONVERTER' | 'TASK_PUT';
  readonly errorClass: string;
  readonly message: string;
}

export const recordFailure = (
  record: SinkRecord,
  stage: RecordFailure['stage'],
  errorClass: string,
  message: string,
): RecordFailure => ({ kind: 'failure', record, stage, errorClass, message });
