/**
 * Generates the Kafka message codecs from the schema data in ../shared/kafka-protocol.
 *
 * For every message (requests, responses, headers, embedded payloads) and every valid
 * version it emits straight-line encode/decode functions — no schema is interpreted at run
 * time. Identical version bodies are emitted once and aliased. The output is committed; run
 * `npm run generate -w @fjord/protocol` after the schema data changes.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const schemaDir = process.env.FJORD_KAFKA_PROTOCOL_DIR ?? resolve(repoRoot, '../shared/kafka-protocol');
// FJORD_PROTOCOL_GENERATED_DIR: generate elsewhere (the test command's drift check compares the two).
const outDir = process.env.FJORD_PROTOCOL_GENERATED_DIR ?? resolve(here, '../src/generated');

// ---------------------------------------------------------------------------------------
// Schema model

interface RawField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number | string;
  default?: string | number | boolean;
  ignorable?: boolean;
  flexibleVersions?: string;
  fields?: RawField[];
}

interface RawSchema {
  name: string;
  type: 'request' | 'response' | 'header' | 'data';
  apiKey?: number;
  validVersions: string;
  flexibleVersions: string;
  latestVersionUnstable?: boolean;
  fields: RawField[];
  commonStructs?: { name: string; versions: string; fields: RawField[] }[];
}

interface Range {
  min: number;
  max: number;
}

function parseRange(s: string | undefined): Range | null {
  if (s === undefined || s === 'none') return null;
  if (s.endsWith('+')) return { min: Number(s.slice(0, -1)), max: Number.POSITIVE_INFINITY };
  const dash = s.indexOf('-');
  if (dash > 0) return { min: Number(s.slice(0, dash)), max: Number(s.slice(dash + 1)) };
  return { min: Number(s), max: Number(s) };
}

function inRange(r: Range | null, v: number): boolean {
  return r !== null && v >= r.min && v <= r.max;
}

const PRIMITIVES = new Set([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'bytes',
  'records',
  'uuid',
]);

interface Field {
  name: string; // camelCase
  wireName: string;
  /** Element type for arrays, the type otherwise. */
  base: string;
  isArray: boolean;
  /** Fully-qualified generated struct name when base is a struct. */
  struct?: StructDef;
  versions: Range | null;
  nullable: Range | null;
  tagged: Range | null;
  tag?: number;
  flexibleOverride: Range | null | undefined;
  ignorable: boolean;
  rawDefault: string | number | boolean | undefined;
}

interface StructDef {
  tsName: string;
  fields: Field[];
}

function camel(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

class SchemaModel {
  readonly structs: StructDef[] = [];
  readonly root: StructDef;

  constructor(readonly schema: RawSchema) {
    const common = new Map<string, RawField[]>();
    for (const c of schema.commonStructs ?? []) common.set(c.name, c.fields);
    const defined = new Map<string, StructDef>();
    const makeStruct = (name: string, rawFields: RawField[]): StructDef => {
      const existing = defined.get(name);
      if (existing) return existing;
      const def: StructDef = { tsName: name === schema.name ? name : `${schema.name}${name}`, fields: [] };
      defined.set(name, def);
      def.fields = rawFields.map((f) => {
        const isArray = f.type.startsWith('[]');
        const base = isArray ? f.type.slice(2) : f.type;
        let struct: StructDef | undefined;
        if (!PRIMITIVES.has(base)) {
          const fields = f.fields ?? common.get(base);
          if (!fields) throw new Error(`${schema.name}: unknown type ${base}`);
          struct = makeStruct(base, fields);
        }
        return {
          name: camel(f.name),
          wireName: f.name,
          base,
          isArray,
          struct,
          versions: parseRange(f.versions),
          nullable: parseRange(f.nullableVersions),
          tagged: parseRange(f.taggedVersions),
          tag: f.tag === undefined ? undefined : Number(f.tag),
          flexibleOverride: f.flexibleVersions === undefined ? undefined : parseRange(f.flexibleVersions),
          ignorable: f.ignorable === true,
          rawDefault: f.default,
        };
      });
      this.structs.push(def);
      return def;
    };
    this.root = makeStruct(schema.name, schema.fields);
  }
}

// ---------------------------------------------------------------------------------------
// Types and defaults

function tsScalar(f: Field): string {
  switch (f.base) {
    case 'bool':
      return 'boolean';
    case 'int64':
      return 'bigint';
    case 'string':
    case 'uuid':
      return 'string';
    case 'bytes':
    case 'records':
      return 'Buffer';
    default:
      return f.struct ? f.struct.tsName : 'number';
  }
}

function tsType(f: Field, input: boolean): string {
  let t = tsScalar(f);
  if (f.struct && input) t = `${t}Input`;
  if (f.isArray) t = `${t}[]`;
  if (f.nullable) t = `${t} | null`;
  return t;
}

/** A field may be omitted by encoders when it has an explicit default or is tagged. */
function optionalInInput(f: Field): boolean {
  return f.rawDefault !== undefined || f.tagged !== null;
}

function defaultExpr(f: Field): string {
  const d = f.rawDefault;
  if ((d === 'null' || d === null) && f.nullable) return 'null';
  if (f.isArray) return '[]';
  switch (f.base) {
    case 'bool':
      return d === true || d === 'true' ? 'true' : 'false';
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float64':
      return d === undefined ? '0' : String(Number(d));
    case 'int64':
      return d === undefined ? '0n' : `${BigInt(d as string | number)}n`;
    case 'string':
      return JSON.stringify(d === undefined ? '' : String(d));
    case 'uuid':
      return 'ZERO_UUID';
    case 'bytes':
    case 'records':
      return 'EMPTY_BUFFER';
    default:
      return `default${f.struct!.tsName}()`;
  }
}

/** An expression that is true when `x` equals the field's default. */
function isDefaultExpr(f: Field, x: string): string {
  const d = defaultExpr(f);
  if (d === 'null') return `${x} === null`;
  if (f.isArray) return `${x} !== null && ${x}.length === 0`;
  if (f.base === 'bytes' || f.base === 'records') return `${x} !== null && ${x}.length === 0`;
  if (f.struct) return `${x} !== null && isDefault${f.struct.tsName}(${x})`;
  return `${x} === ${d}`;
}

// ---------------------------------------------------------------------------------------
// Code emission

function isFlexible(f: Field, flexible: boolean): boolean {
  return f.flexibleOverride === undefined ? flexible : f.flexibleOverride !== null && flexible;
}

function writeScalar(
  f: Field,
  x: string,
  v: number,
  flex: boolean,
  nullable: boolean,
  name: (s: StructDef, v: number, dir: 'encode' | 'decode') => string,
): string[] {
  switch (f.base) {
    case 'bool':
      return [`w.bool(${x});`];
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'float64':
    case 'uuid':
      return [`w.${f.base}(${x});`];
    case 'string':
      return [
        `w.${flex ? 'compact' : ''}${nullable ? (flex ? 'NullableString' : 'nullableString') : flex ? 'String' : 'string'}(${x});`,
      ];
    case 'bytes':
    case 'records':
      return [
        `w.${flex ? 'compact' : ''}${nullable ? (flex ? 'NullableBytes' : 'nullableBytes') : flex ? 'Bytes' : 'bytes'}(${x});`,
      ];
    default: {
      const fn = name(f.struct!, v, 'encode');
      if (nullable) return [`if (${x} === null) w.int8(-1);`, `else { w.int8(1); ${fn}(w, ${x}); }`];
      return [`${fn}(w, ${x});`];
    }
  }
}

function readScalar(
  f: Field,
  v: number,
  flex: boolean,
  nullable: boolean,
  name: (s: StructDef, v: number, dir: 'encode' | 'decode') => string,
): string {
  switch (f.base) {
    case 'bool':
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'float64':
    case 'uuid':
      return `r.${f.base === 'bool' ? 'bool' : f.base}()`;
    case 'string':
      return `r.${flex ? 'compact' : ''}${nullable ? (flex ? 'NullableString' : 'nullableString') : flex ? 'String' : 'string'}()`;
    case 'bytes':
    case 'records':
      return `r.${flex ? 'compact' : ''}${nullable ? (flex ? 'NullableBytes' : 'nullableBytes') : flex ? 'Bytes' : 'bytes'}()`;
    default: {
      const fn = name(f.struct!, v, 'decode');
      return nullable ? `(r.int8() < 0 ? null : ${fn}(r))` : `${fn}(r)`;
    }
  }
}

function writeField(
  f: Field,
  x: string,
  v: number,
  flexible: boolean,
  name: (s: StructDef, v: number, dir: 'encode' | 'decode') => string,
): string[] {
  const flex = isFlexible(f, flexible);
  const nullable = inRange(f.nullable, v);
  const lines: string[] = [];
  // Nullable in other versions but not this one: null cannot be represented, as in Kafka.
  if (f.nullable && !nullable)
    lines.push(
      `if (${x} === null) throw new UnsupportedVersionFieldError('null ${f.wireName} cannot be sent in version ${v}');`,
    );
  if (!f.isArray) return [...lines, ...writeScalar(f, x, v, flex, nullable, name)];
  const elem: Field = { ...f, isArray: false };
  const len = flex ? 'compactArrayLength' : 'arrayLength';
  const body = writeScalar(elem, 'e', v, flex, false, name);
  if (nullable) {
    lines.push(`if (${x} === null) w.${flex ? 'uvarint(0)' : 'int32(-1)'};`);
    lines.push(`else { w.${len}(${x}.length); for (const e of ${x}) { ${body.join(' ')} } }`);
  } else {
    lines.push(`w.${len}(${x}.length);`);
    lines.push(`for (const e of ${x}) { ${body.join(' ')} }`);
  }
  return lines;
}

function readField(
  f: Field,
  target: string,
  v: number,
  flexible: boolean,
  name: (s: StructDef, v: number, dir: 'encode' | 'decode') => string,
): string[] {
  const flex = isFlexible(f, flexible);
  const nullable = inRange(f.nullable, v);
  if (!f.isArray) return [`${target} = ${readScalar(f, v, flex, nullable, name)};`];
  const elem: Field = { ...f, isArray: false };
  const n = `n_${f.name}`;
  const lenFn = flex
    ? nullable
      ? 'compactNullableArrayLength'
      : 'compactArrayLength'
    : nullable
      ? 'nullableArrayLength'
      : 'arrayLength';
  const read = readScalar(elem, v, flex, false, name);
  const lines = [`const ${n} = r.${lenFn}();`];
  if (nullable) lines.push(`if (${n} < 0) ${target} = null; else {`);
  lines.push(`const a_${f.name}: ${tsScalar(f)}[] = [];`);
  lines.push(`for (let i = 0; i < ${n}; i++) a_${f.name}.push(${read});`);
  lines.push(`${target} = a_${f.name};`);
  if (nullable) lines.push('}');
  return lines;
}

function emitSchema(model: SchemaModel, versions: Range): string {
  const flexRange = parseRange(model.schema.flexibleVersions);
  const out: string[] = [];
  const canonical = new Map<string, string>(); // `${struct}|${dir}|${v}` → function name
  const bodies = new Map<string, string>(); // `${struct}|${dir}|${body}` → function name
  const name = (s: StructDef, v: number, dir: 'encode' | 'decode'): string => {
    const n = canonical.get(`${s.tsName}|${dir}|${v}`);
    if (!n) throw new Error(`no ${dir} for ${s.tsName} v${v}`);
    return n;
  };

  // Types.
  for (const s of model.structs) {
    out.push(`export interface ${s.tsName} {`);
    for (const f of s.fields) out.push(`  ${f.name}: ${tsType(f, false)};`);
    out.push('}');
    out.push(`export interface ${s.tsName}Input {`);
    for (const f of s.fields) out.push(`  ${f.name}${optionalInInput(f) ? '?' : ''}: ${tsType(f, true)};`);
    out.push('}');
    out.push(`export function default${s.tsName}(): ${s.tsName} {`);
    out.push(`  return { ${s.fields.map((f) => `${f.name}: ${defaultExpr(f)}`).join(', ')} };`);
    out.push('}');
    out.push(`function isDefault${s.tsName}(m: ${s.tsName}Input): boolean {`);
    const checks = s.fields.map((f) => `(m.${f.name} === undefined || ${isDefaultExpr(f, `m.${f.name}`)})`);
    out.push(`  return ${checks.length ? checks.join(' && ') : 'true'};`);
    out.push('}');
  }

  // Codecs: structs are in dependency order (children pushed before parents complete).
  for (let v = versions.min; v <= versions.max; v++) {
    const flexible = inRange(flexRange, v);
    for (const s of model.structs) {
      // encode
      const enc: string[] = [];
      const present = s.fields.filter((f) => inRange(f.versions, v) && !(flexible && inRange(f.tagged, v)));
      const tagged = s.fields
        .filter((f) => inRange(f.versions, v) && flexible && inRange(f.tagged, v))
        .sort((a, b) => a.tag! - b.tag!);
      for (const f of s.fields) {
        if (inRange(f.versions, v)) continue;
        if (f.ignorable) continue;
        enc.push(
          `if (m.${f.name} !== undefined && !(${isDefaultExpr(f, `m.${f.name}`)})) throw new UnsupportedVersionFieldError('${s.tsName}.${f.wireName} cannot be sent in version ${v}');`,
        );
      }
      for (const f of present) {
        const x = optionalInInput(f)
          ? `(m.${f.name} === undefined ? ${defaultExpr(f)} : m.${f.name})`
          : `m.${f.name}`;
        if (optionalInInput(f) || f.isArray || f.struct) {
          enc.push(`{ const x = ${x};`);
          enc.push(...writeField(f, 'x', v, flexible, name));
          enc.push('}');
        } else enc.push(...writeField(f, x, v, flexible, name));
      }
      if (flexible) {
        if (tagged.length === 0) enc.push('w.uvarint(0);');
        else {
          enc.push('let tags = 0;');
          for (const f of tagged)
            enc.push(
              `const t_${f.name} = m.${f.name} === undefined ? ${defaultExpr(f)} : m.${f.name}; if (!(${isDefaultExpr(f, `t_${f.name}`)})) tags++;`,
            );
          enc.push('w.uvarint(tags);');
          for (const f of tagged) {
            enc.push(
              `if (!(${isDefaultExpr(f, `t_${f.name}`)})) { const outer = w; { const w = new Writer(); ${writeField(f, `t_${f.name}`, v, true, name).join(' ')} const b = w.toBuffer(); outer.uvarint(${f.tag}); outer.uvarint(b.length); outer.raw(b); } }`,
            );
          }
        }
      }
      registerFunction(out, canonical, bodies, s, v, 'encode', `(w: Writer, m: ${s.tsName}Input): void`, enc);

      // decode
      const dec: string[] = [];
      for (const f of s.fields) {
        dec.push(
          `let f_${f.name}: ${tsType(f, false)} = ${inRange(f.versions, v) && !(flexible && inRange(f.tagged, v)) ? '' : defaultExpr(f)};`,
        );
      }
      // Fields read in order, declared above; fix declarations that start unassigned.
      for (let i = 0; i < dec.length; i++) dec[i] = dec[i]!.replace(/ = ;$/, ';');
      for (const f of present) dec.push(...readField(f, `f_${f.name}`, v, flexible, name));
      if (flexible) {
        if (tagged.length === 0) dec.push('r.skipTaggedFields();');
        else {
          dec.push('const tagCount = r.uvarint();');
          dec.push('for (let i = 0; i < tagCount; i++) {');
          dec.push('const tag = r.uvarint(); const size = r.uvarint(); const end = r.pos + size;');
          dec.push(
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the generated code is a template literal
            'if (size > r.remaining) throw new ProtocolDecodeError(`tagged field ${tag} of ${size} bytes exceeds the frame`);',
          );
          dec.push('switch (tag) {');
          for (const f of tagged) {
            dec.push(`case ${f.tag}: { ${readField(f, `f_${f.name}`, v, true, name).join(' ')} break; }`);
          }
          dec.push('default: r.skip(size);');
          dec.push('}');
          dec.push(
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the generated code is a template literal
            'if (r.pos !== end) throw new ProtocolDecodeError(`tagged field ${tag} has a wrong size`);',
          );
          dec.push('}');
        }
      }
      dec.push(`return { ${s.fields.map((f) => `${f.name}: f_${f.name}`).join(', ')} };`);
      registerFunction(out, canonical, bodies, s, v, 'decode', `(r: Reader): ${s.tsName}`, dec);
    }
  }
  return out.join('\n');
}

function registerFunction(
  out: string[],
  canonical: Map<string, string>,
  bodies: Map<string, string>,
  s: StructDef,
  v: number,
  dir: 'encode' | 'decode',
  signature: string,
  body: string[],
): void {
  const fnName = `${dir}${s.tsName}V${v}`;
  const text = body.map((l) => `  ${l}`).join('\n');
  const key = `${s.tsName}|${dir}|${text}`;
  const existing = bodies.get(key);
  if (existing) {
    canonical.set(`${s.tsName}|${dir}|${v}`, existing);
    out.push(`export const ${fnName} = ${existing};`);
    return;
  }
  bodies.set(key, fnName);
  canonical.set(`${s.tsName}|${dir}|${v}`, fnName);
  out.push(`export function ${fnName}${signature} {\n${text}\n}`);
}

// ---------------------------------------------------------------------------------------
// Files

const HEADER =
  '// Generated by packages/protocol/scripts/generate.ts from ../shared/kafka-protocol. Do not edit.\n';

function loadSchemas(): RawSchema[] {
  const dir = join(schemaDir, 'messages');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RawSchema);
}

function main(): void {
  const schemas = loadSchemas();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'messages'), { recursive: true });

  const usesTagged = new Map<string, boolean>();
  for (const schema of schemas) {
    const model = new SchemaModel(schema);
    const versions = parseRange(schema.validVersions)!;
    const body = emitSchema(model, versions);
    usesTagged.set(schema.name, body.includes('new Writer('));
    const imports = [
      "import { Reader } from '../../wire/Reader.js';",
      `import { ${body.includes('new Writer(') ? 'Writer' : 'type Writer'} } from '../../wire/Writer.js';`,
      `import { ${[
        body.includes('ProtocolDecodeError') ? 'ProtocolDecodeError' : '',
        body.includes('UnsupportedVersionFieldError') ? 'UnsupportedVersionFieldError' : '',
      ]
        .filter(Boolean)
        .join(', ')} } from '../../wire/ProtocolDecodeError.js';`,
      `import { ${['EMPTY_BUFFER', 'ZERO_UUID'].filter((c) => body.includes(c)).join(', ')} } from '../../wire/constants.js';`,
    ].filter((l) => !l.includes('{  }'));
    // Reader is used only as a type when no decoder needs a runtime reference.
    const code = `${HEADER}/* eslint-disable */\n${imports.join('\n').replace('import { Reader }', 'import type { Reader }')}\n\n${body}\n`;
    writeFileSync(join(outDir, 'messages', `${schema.name}.ts`), code);
  }

  writeFileSync(join(outDir, 'api.ts'), emitApiTable(schemas));
  writeFileSync(join(outDir, 'errors.ts'), emitErrors());
  writeFileSync(join(outDir, 'apiVersionsByRelease.ts'), emitReleases());
  writeFileSync(join(outDir, 'schema.ts'), emitSchemaData(schemas));
  writeFileSync(
    join(outDir, 'messages', 'index.ts'),
    `${HEADER}${schemas.map((s) => `export * from './${s.name}.js';`).join('\n')}\n`,
  );
}

function emitApiTable(schemas: RawSchema[]): string {
  const byKey = new Map<number, { req?: RawSchema; res?: RawSchema }>();
  for (const s of schemas) {
    if (s.apiKey === undefined || (s.type !== 'request' && s.type !== 'response')) continue;
    const e = byKey.get(s.apiKey) ?? {};
    if (s.type === 'request') e.req = s;
    else e.res = s;
    byKey.set(s.apiKey, e);
  }
  const keys = [...byKey.keys()].sort((a, b) => a - b);
  const lines: string[] = [HEADER];
  lines.push("import type { Reader } from '../wire/Reader.js';");
  lines.push("import type { Writer } from '../wire/Writer.js';");
  lines.push("import * as m from './messages/index.js';\n");
  lines.push('export const ApiKey = {');
  for (const k of keys) lines.push(`  ${apiName(byKey.get(k)!.req!)}: ${k},`);
  lines.push('} as const;');
  lines.push('export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];\n');
  lines.push('export interface ApiMessageTypes {');
  for (const k of keys) {
    const { req, res } = byKey.get(k)!;
    lines.push(
      `  ${k}: { request: m.${req!.name}; requestInput: m.${req!.name}Input; response: m.${res!.name}; responseInput: m.${res!.name}Input };`,
    );
  }
  lines.push('}\n');
  lines.push(`export interface ApiCodec<T extends { request: unknown; requestInput: unknown; response: unknown; responseInput: unknown }> {
  readonly apiKey: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Lowest flexible version, or -1 when no version is flexible. */
  readonly firstFlexibleVersion: number;
  /** Highest version not flagged latestVersionUnstable. */
  readonly maxStableVersion: number;
  readonly decodeRequest: readonly ((r: Reader) => T['request'])[];
  readonly encodeRequest: readonly ((w: Writer, msg: T['requestInput']) => void)[];
  readonly decodeResponse: readonly ((r: Reader) => T['response'])[];
  readonly encodeResponse: readonly ((w: Writer, msg: T['responseInput']) => void)[];
}\n`);
  lines.push(
    'export const API_CODECS: { readonly [K in keyof ApiMessageTypes]: ApiCodec<ApiMessageTypes[K]> } = {',
  );
  for (const k of keys) {
    const { req, res } = byKey.get(k)!;
    const r = parseRange(req!.validVersions)!;
    const flex = parseRange(req!.flexibleVersions);
    const vs = Array.from({ length: r.max - r.min + 1 }, (_, i) => r.min + i);
    const list = (dir: string, s: RawSchema) =>
      `[${Array.from({ length: r.min }, () => 'undefined!')
        .concat(vs.map((v) => `m.${dir}${s.name}V${v}`))
        .join(', ')}]`;
    lines.push(`  ${k}: {
    apiKey: ${k},
    name: '${apiName(req!)}',
    minVersion: ${r.min},
    maxVersion: ${r.max},
    firstFlexibleVersion: ${flex ? flex.min : -1},
    maxStableVersion: ${req!.latestVersionUnstable ? r.max - 1 : r.max},
    decodeRequest: ${list('decode', req!)},
    encodeRequest: ${list('encode', req!)},
    decodeResponse: ${list('decode', res!)},
    encodeResponse: ${list('encode', res!)},
  },`);
  }
  lines.push('};\n');
  lines.push(`/** Codec table indexed by API key (undefined for unknown keys). */
export const API_CODEC_LIST: readonly (ApiCodec<ApiMessageTypes[keyof ApiMessageTypes]> | undefined)[] = (() => {
  const list: (ApiCodec<ApiMessageTypes[keyof ApiMessageTypes]> | undefined)[] = [];
  for (const c of Object.values(API_CODECS)) list[c.apiKey] = c as ApiCodec<ApiMessageTypes[keyof ApiMessageTypes]>;
  return list;
})();

/** Request header version: 2 for flexible versions, 0 for ControlledShutdown v0, else 1. */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  const c = API_CODEC_LIST[apiKey];
  if (c && c.firstFlexibleVersion >= 0 && apiVersion >= c.firstFlexibleVersion) return 2;
  return apiKey === ${7} && apiVersion === 0 ? 0 : 1;
}

/** Response header version: 1 for flexible versions, except ApiVersions which always uses 0. */
export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === 18) return 0;
  const c = API_CODEC_LIST[apiKey];
  return c && c.firstFlexibleVersion >= 0 && apiVersion >= c.firstFlexibleVersion ? 1 : 0;
}
`);
  return lines.join('\n');
}

function apiName(req: RawSchema): string {
  return req.name.replace(/Request$/, '');
}

function emitErrors(): string {
  const data = JSON.parse(readFileSync(join(schemaDir, 'error-codes.json'), 'utf8')) as {
    errors: { code: number; name: string; retriable: boolean | null }[];
  };
  const lines = [HEADER, 'export const ErrorCode = {'];
  for (const e of data.errors) lines.push(`  ${e.name}: ${e.code},`);
  lines.push('} as const;');
  lines.push('export type ErrorCodeName = keyof typeof ErrorCode;\n');
  lines.push('/** Error name by code. */');
  lines.push('export const ERROR_NAMES: ReadonlyMap<number, ErrorCodeName> = new Map([');
  for (const e of data.errors) lines.push(`  [${e.code}, '${e.name}'],`);
  lines.push(']);\n');
  lines.push('/** Codes whose exception is retriable on the client. */');
  lines.push(
    `export const RETRIABLE_ERRORS: ReadonlySet<number> = new Set([${data.errors
      .filter((e) => e.retriable)
      .map((e) => e.code)
      .join(', ')}]);`,
  );
  return `${lines.join('\n')}\n`;
}

function emitReleases(): string {
  const data = JSON.parse(readFileSync(join(schemaDir, 'api-versions.json'), 'utf8')) as {
    releases: Record<
      string,
      Record<
        string,
        {
          name: string;
          max: number;
          latestVersionUnstable?: boolean;
          listeners?: string[];
          enabled?: boolean;
        }
      >
    >;
  };
  const lines = [
    HEADER,
    '/** Per Kafka release: API key → highest request version that release advertises, and which listeners serve it. */',
    'export interface ReleaseApi { readonly max: number; readonly listeners?: readonly string[] }',
    'export const API_VERSIONS_BY_RELEASE: Readonly<Record<string, Readonly<Record<number, ReleaseApi>>>> = {',
  ];
  for (const [release, apis] of Object.entries(data.releases)) {
    const entries = Object.entries(apis)
      .filter(([, a]) => a.enabled !== false)
      .map(([k, a]) => {
        const max = a.latestVersionUnstable ? a.max - 1 : a.max;
        return max < 0
          ? null
          : `${k}: { max: ${max}${a.listeners ? `, listeners: ${JSON.stringify(a.listeners)}` : ''} }`;
      })
      .filter(Boolean);
    lines.push(`  '${release}': { ${entries.join(', ')} },`);
  }
  lines.push('};');
  return `${lines.join('\n')}\n`;
}

/** Compact field specs for tests that build arbitrary messages without ../shared. */
function emitSchemaData(schemas: RawSchema[]): string {
  const strip = (fields: RawField[]): unknown[] =>
    fields.map((f) => {
      const o: Record<string, unknown> = { n: f.name, t: f.type, v: f.versions };
      if (f.nullableVersions) o.nv = f.nullableVersions;
      if (f.taggedVersions) o.tv = f.taggedVersions;
      if (f.tag !== undefined) o.tag = Number(f.tag);
      if (f.default !== undefined) o.d = f.default;
      if (f.ignorable) o.ig = true;
      if (f.flexibleVersions !== undefined) o.fv = f.flexibleVersions;
      if (f.fields) o.f = strip(f.fields);
      return o;
    });
  const data = schemas.map((s) => ({
    name: s.name,
    type: s.type,
    apiKey: s.apiKey,
    validVersions: s.validVersions,
    flexibleVersions: s.flexibleVersions,
    fields: strip(s.fields),
    commonStructs: (s.commonStructs ?? []).map((c) => ({ name: c.name, fields: strip(c.fields) })),
  }));
  return `${HEADER}/** Field specs: n name, t type, v versions, nv nullable, tv tagged, tag, d default, ig ignorable, fv flexible override, f fields. */
export interface SchemaField { n: string; t: string; v: string; nv?: string; tv?: string; tag?: number; d?: string | number | boolean; ig?: boolean; fv?: string; f?: SchemaField[] }
export interface SchemaMessage { name: string; type: string; apiKey?: number; validVersions: string; flexibleVersions: string; fields: SchemaField[]; commonStructs: { name: string; fields: SchemaField[] }[] }
export const MESSAGE_SCHEMAS: readonly SchemaMessage[] = ${JSON.stringify(data)};
`;
}

main();
