/** A read or DeleteRecords outside [logStartOffset, logEndOffset] (OFFSET_OUT_OF_RANGE). */
export class OffsetOutOfRangeError extends Error {
  constructor(
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(`offset ${offset} is outside [${logStartOffset}, ${logEndOffset}]`);
    this.name = 'OffsetOutOfRangeError';
  }
}

/**
 * The log's directory failed (or had failed before): answer KAFKA_STORAGE_ERROR. The
 * partition stays offline on this broker until the directory is repaired and it restarts.
 */
export class KafkaStorageError extends Error {
  constructor(
    message: string,
    readonly logDir: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KafkaStorageError';
  }
}

/** Offsets handed to appendAsFollower that do not continue the log (non-monotonic, overlap). */
export class InvalidOffsetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOffsetError';
  }
}

/**
 * Error codes that mean the disk or its file system let us down, as opposed to a bug or a bad
 * argument. Running out of file descriptors is the process's problem, not the directory's.
 */
const STORAGE_ERROR_CODES = new Set([
  'EIO',
  'ENOSPC',
  'EDQUOT',
  'EROFS',
  'ENOENT',
  'ENOTDIR',
  'EEXIST',
  'EISDIR',
  'EACCES',
  'EPERM',
  'EBADF',
  'ESTALE',
  'ENXIO',
  'ENODEV',
]);

export function isStorageIoError(err: unknown): err is NodeJS.ErrnoException {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && STORAGE_ERROR_CODES.has(code);
}
