/** Malformed or truncated protocol bytes. Decoders throw only this, never a RangeError. */
export class ProtocolDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolDecodeError';
  }
}

/** A field that the target version cannot carry was given a non-default value. */
export class UnsupportedVersionFieldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedVersionFieldError';
  }
}
