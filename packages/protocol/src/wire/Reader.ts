import { ProtocolDecodeError } from './ProtocolDecodeError.js';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Cursor over one frame. Every read is bounds-checked against the frame, and every length
 * read from the wire is checked against the bytes left before anything is allocated, so a
 * hostile length costs nothing. `bytes`/`records` come back as views of the frame (no copy).
 */
export class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    offset = 0,
    readonly end = buf.length,
  ) {
    this.pos = offset;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    const at = this.pos;
    if (n > this.end - at) throw new ProtocolDecodeError(`need ${n} bytes at ${at}, have ${this.end - at}`);
    this.pos = at + n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1));
  }
  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }
  uint16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }
  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }
  uint32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }
  int64(): bigint {
    return this.buf.readBigInt64BE(this.need(8));
  }
  float64(): number {
    return this.buf.readDoubleBE(this.need(8));
  }
  bool(): boolean {
    return this.buf[this.need(1)] !== 0;
  }

  uuid(): string {
    const at = this.need(16);
    const b = this.buf;
    let s = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
      s += HEX[b[at + i]!];
    }
    return s;
  }

  /** Unsigned varint (at most 5 bytes, 32 bits). */
  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new ProtocolDecodeError('truncated varint');
      const byte = this.buf[this.pos++]!;
      if (shift === 28) {
        if (byte > 0x0f) throw new ProtocolDecodeError('varint is too long');
        return (value | (byte << 28)) >>> 0;
      }
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
      shift += 7;
    }
  }

  /** Zig-zag signed varint (32 bits). */
  varint(): number {
    const n = this.uvarint();
    return (n >>> 1) ^ -(n & 1);
  }

  /** Zig-zag signed varlong (64 bits). */
  varlong(): bigint {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new ProtocolDecodeError('truncated varlong');
      const byte = this.buf[this.pos++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new ProtocolDecodeError('varlong is too long');
    }
    return (value >> 1n) ^ -(value & 1n);
  }

  private utf8(len: number): string {
    const at = this.need(len);
    return this.buf.toString('utf8', at, at + len);
  }

  /** int16-length string; -1 is null. */
  nullableString(): string | null {
    const len = this.int16();
    if (len < 0) {
      if (len === -1) return null;
      throw new ProtocolDecodeError(`negative string length ${len}`);
    }
    return this.utf8(len);
  }
  string(): string {
    const s = this.nullableString();
    if (s === null) throw new ProtocolDecodeError('non-nullable string was null');
    return s;
  }
  /** uvarint length+1 string; 0 is null. */
  compactNullableString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.utf8(n - 1);
  }
  compactString(): string {
    const s = this.compactNullableString();
    if (s === null) throw new ProtocolDecodeError('non-nullable string was null');
    return s;
  }

  private view(len: number): Buffer {
    const at = this.need(len);
    return this.buf.subarray(at, at + len);
  }
  /** int32-length bytes; -1 is null. */
  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len < 0) {
      if (len === -1) return null;
      throw new ProtocolDecodeError(`negative bytes length ${len}`);
    }
    return this.view(len);
  }
  bytes(): Buffer {
    const b = this.nullableBytes();
    if (b === null) throw new ProtocolDecodeError('non-nullable bytes were null');
    return b;
  }
  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    return n === 0 ? null : this.view(n - 1);
  }
  compactBytes(): Buffer {
    const b = this.compactNullableBytes();
    if (b === null) throw new ProtocolDecodeError('non-nullable bytes were null');
    return b;
  }

  /** int32 array count; -1 is null. Each element takes at least one byte, which bounds it. */
  nullableArrayLength(): number {
    const n = this.int32();
    if (n < 0) {
      if (n === -1) return -1;
      throw new ProtocolDecodeError(`negative array length ${n}`);
    }
    if (n > this.remaining)
      throw new ProtocolDecodeError(`array length ${n} exceeds the ${this.remaining} bytes left`);
    return n;
  }
  arrayLength(): number {
    const n = this.nullableArrayLength();
    if (n < 0) throw new ProtocolDecodeError('non-nullable array was null');
    return n;
  }
  compactNullableArrayLength(): number {
    const n = this.uvarint() - 1;
    if (n > this.remaining)
      throw new ProtocolDecodeError(`array length ${n} exceeds the ${this.remaining} bytes left`);
    return n;
  }
  compactArrayLength(): number {
    const n = this.compactNullableArrayLength();
    if (n < 0) throw new ProtocolDecodeError('non-nullable array was null');
    return n;
  }

  skip(n: number): void {
    this.need(n);
  }

  /** Skips a whole tagged-field section (for structs that declare no tagged fields). */
  skipTaggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }
}
