/**
 * fast-check arbitraries for any message version, built from the same schema data the
 * generator reads (via the compact copy in generated/schema.ts). Each arbitrary yields the
 * object to encode and the object decoding must give back (absent fields → defaults).
 */
import fc from 'fast-check';
import { MESSAGE_SCHEMAS, type SchemaField, type SchemaMessage } from '../../src/generated/schema.js';

export interface Case {
  readonly input: Record<string, unknown>;
  readonly expected: Record<string, unknown>;
}

interface Range {
  min: number;
  max: number;
}

export function parseRange(s: string | undefined): Range | null {
  if (s === undefined || s === 'none') return null;
  if (s.endsWith('+')) return { min: Number(s.slice(0, -1)), max: Number.POSITIVE_INFINITY };
  const dash = s.indexOf('-');
  if (dash > 0) return { min: Number(s.slice(0, dash)), max: Number(s.slice(dash + 1)) };
  return { min: Number(s), max: Number(s) };
}

export function inRange(r: Range | null, v: number): boolean {
  return r !== null && v >= r.min && v <= r.max;
}

const camel = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

export function schemaByName(name: string): SchemaMessage {
  const s = MESSAGE_SCHEMAS.find((m) => m.name === name);
  if (!s) throw new Error(`no schema ${name}`);
  return s;
}

function structFields(msg: SchemaMessage, f: SchemaField): SchemaField[] {
  if (f.f) return f.f;
  const base = f.t.replace(/^\[\]/, '');
  const common = msg.commonStructs.find((c) => c.name === base);
  if (!common) throw new Error(`${msg.name}: no struct ${base}`);
  return common.fields;
}

const PRIMITIVE = /^(bool|int8|int16|uint16|int32|uint32|int64|float64|string|bytes|records|uuid)$/;

function defaultOf(msg: SchemaMessage, f: SchemaField): unknown {
  const d = f.d;
  if ((d === 'null' || d === null) && f.nv) return null;
  if (f.t.startsWith('[]')) return [];
  switch (f.t) {
    case 'bool':
      return d === true || d === 'true';
    case 'int64':
      return d === undefined ? 0n : BigInt(d as string);
    case 'string':
      return d === undefined ? '' : String(d);
    case 'uuid':
      return '00000000-0000-0000-0000-000000000000';
    case 'bytes':
    case 'records':
      return Buffer.alloc(0);
    default:
      if (PRIMITIVE.test(f.t)) return d === undefined ? 0 : Number(d);
      return Object.fromEntries(structFields(msg, f).map((sf) => [camel(sf.n), defaultOf(msg, sf)]));
  }
}

function scalar(
  msg: SchemaMessage,
  f: SchemaField,
  type: string,
  v: number,
  flexible: boolean,
  depth: number,
): fc.Arbitrary<Case> {
  const same = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<Case> =>
    a.map((x) => ({ input: x as never, expected: x as never }));
  switch (type) {
    case 'bool':
      return same(fc.boolean());
    case 'int8':
      return same(fc.integer({ min: -128, max: 127 }));
    case 'int16':
      return same(fc.integer({ min: -32768, max: 32767 }));
    case 'uint16':
      return same(fc.integer({ min: 0, max: 65535 }));
    case 'int32':
      return same(fc.integer());
    case 'uint32':
      return same(fc.integer({ min: 0, max: 0xffffffff }));
    case 'int64':
      return same(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
    case 'float64':
      return same(fc.double({ noNaN: true }).map((x) => (x === 0 ? 0 : x)));
    case 'string':
      return same(fc.string({ unit: 'grapheme', maxLength: 12 }));
    case 'uuid':
      return same(fc.uuid());
    case 'bytes':
    case 'records':
      return same(fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a)));
    default:
      return structArb(msg, structFields(msg, f), v, flexible, depth + 1);
  }
}

function fieldArb(
  msg: SchemaMessage,
  f: SchemaField,
  v: number,
  flexible: boolean,
  depth: number,
): fc.Arbitrary<Case> {
  const isArray = f.t.startsWith('[]');
  const base = isArray ? f.t.slice(2) : f.t;
  let arb: fc.Arbitrary<Case>;
  if (isArray) {
    const elem = scalar(msg, f, base, v, flexible, depth);
    arb = fc.array(elem, { maxLength: depth > 2 ? 1 : 3 }).map((cases) => ({
      input: cases.map((c) => c.input) as never,
      expected: cases.map((c) => c.expected) as never,
    }));
  } else arb = scalar(msg, f, base, v, flexible, depth);
  if (inRange(parseRange(f.nv), v)) {
    arb = fc.oneof(
      { weight: 1, arbitrary: fc.constant({ input: null as never, expected: null as never }) },
      { weight: 3, arbitrary: arb },
    );
  }
  return arb;
}

function structArb(
  msg: SchemaMessage,
  fields: SchemaField[],
  v: number,
  flexible: boolean,
  depth: number,
): fc.Arbitrary<Case> {
  const parts: Record<string, fc.Arbitrary<Case>> = {};
  const absent: Record<string, unknown> = {};
  for (const f of fields) {
    const name = camel(f.n);
    if (!inRange(parseRange(f.v), v)) absent[name] = defaultOf(msg, f);
    else parts[name] = fieldArb(msg, f, v, flexible, depth);
  }
  return fc.record(parts).map((cases) => {
    const input: Record<string, unknown> = {};
    const expected: Record<string, unknown> = { ...absent };
    for (const [k, c] of Object.entries(cases)) {
      input[k] = c.input;
      expected[k] = c.expected;
    }
    return { input, expected };
  });
}

export function messageArb(msg: SchemaMessage, v: number): fc.Arbitrary<Case> {
  const flexible = inRange(parseRange(msg.flexibleVersions), v);
  return structArb(msg, msg.fields, v, flexible, 0);
}

export { MESSAGE_SCHEMAS };
