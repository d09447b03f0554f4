/**
 * int64 fields as JS numbers (exact below 2^53, which offsets and millisecond timestamps stay
 * under), read and written as two int32 halves: the BigInt round trip costs more than the
 * rest of an append's header work.
 */
const TWO_32 = 2 ** 32;

export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

export function writeInt64(buf: Buffer, at: number, value: number): void {
  const high = Math.floor(value / TWO_32);
  buf.writeInt32BE(high, at);
  buf.writeUInt32BE(value - high * TWO_32, at + 4);
}
