/**
 * Client address allowlists: comma-separated IPv4 and IPv6 CIDRs (`10.0.0.0/8,::1/128`; a bare
 * address means that one host). Pure: addresses are compared as 16-byte IPv6 values, IPv4 ones
 * as IPv4-mapped (`::ffff:a.b.c.d`), so a dual-stack socket's `::ffff:127.0.0.1` matches
 * `127.0.0.0/8` and an IPv4 range is `::ffff:0:0/96` plus its prefix.
 */
export interface Cidr {
  /** The network's 16 bytes, host bits zero. */
  readonly network: Uint8Array;
  /** Prefix length over the 128-bit form (an IPv4 /p is 96 + p). */
  readonly prefix: number;
  /** As written, for messages. */
  readonly text: string;
}

const V4_MAPPED_PREFIX = 96;

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

function parseIpv6(text: string): number[] | undefined {
  // A zone (fe80::1%eth0) names an interface, not an address: not accepted in ranges, ignored on sockets.
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIpv4(item);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(item)) out.push(Number.parseInt(item, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** An address as 16 bytes (IPv4 mapped); undefined when it is not an IP address. */
export function addressBytes(address: string): Uint8Array | undefined {
  const zoneless = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  const v4 = parseIpv4(zoneless);
  if (v4) return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
  const v6 = zoneless.includes(':') ? parseIpv6(zoneless) : undefined;
  return v6 && Uint8Array.from(v6);
}

/** Parses one CIDR; a string saying what is wrong otherwise. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const isV4 = !addressText.includes(':');
  const bytes = isV4 ? parseIpv4(addressText) : parseIpv6(addressText);
  if (!bytes) return `'${text}' is not an IPv4 or IPv6 address or CIDR`;
  const max = isV4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return `'${text}' has a prefix length outside 0..${max}`;
    length = Number(p);
  }
  const network = isV4
    ? Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...bytes])
    : Uint8Array.from(bytes);
  const prefix = isV4 ? V4_MAPPED_PREFIX + length : length;
  if (!sameNetwork(network, network, prefix, true))
    return `'${text}' has host bits set (the network is ${formatNetwork(network, prefix, isV4)})`;
  return { network, prefix, text };
}

/** Whether `a` lies in the network (`net`, `prefix`); with `hostBitsZero`, whether `net` has none set. */
function sameNetwork(a: Uint8Array, net: Uint8Array, prefix: number, hostBitsZero = false): boolean {
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    const mask = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
    if (hostBitsZero ? (net[i]! & ~mask & 0xff) !== 0 : (a[i]! & mask) !== net[i]!) return false;
  }
  return true;
}

function formatNetwork(bytes: Uint8Array, prefix: number, isV4: boolean): string {
  const masked = bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
  if (isV4) return `${[...masked.subarray(12)].join('.')}/${prefix - V4_MAPPED_PREFIX}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((masked[i]! << 8) | masked[i + 1]!).toString(16));
  return `${words.join(':')}/${prefix}`;
}

/** A parsed allowlist; `undefined` entries mean "everyone" (the setting absent or empty). */
export class CidrAllowlist {
  private constructor(readonly cidrs: readonly Cidr[]) {}

  /** Parses `a,b,c`; blank means everyone. Returns the problem as a string when an entry is invalid. */
  static parse(text: string): CidrAllowlist | string {
    const items = text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const cidrs: Cidr[] = [];
    for (const item of items) {
      const c = parseCidr(item);
      if (typeof c === 'string') return c;
      cidrs.push(c);
    }
    return new CidrAllowlist(cidrs);
  }

  /** Everyone is allowed when the list is empty. */
  get allowsEveryone(): boolean {
    return this.cidrs.length === 0;
  }

  /** Whether a client at `address` may connect (an unparseable address only when the list is empty). */
  allows(address: string): boolean {
    if (this.cidrs.length === 0) return true;
    const bytes = addressBytes(address);
    if (!bytes) return false;
    return this.cidrs.some((c) => sameNetwork(bytes, c.network, c.prefix));
  }
}
