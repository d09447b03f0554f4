export * from './records/crc.js';
export * from './records/RecordBatchHeader.js';
