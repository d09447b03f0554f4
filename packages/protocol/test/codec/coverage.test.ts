import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_CODEC_LIST } from '../../src/generated/api.js';
import { parseRange } from './schemaArbitraries.js';

const schemaDir =
  process.env.FJORD_KAFKA_PROTOCOL_DIR ??
  resolve(import.meta.dirname, '../../../../../shared/kafka-protocol');

describe('codec coverage against ../shared/kafka-protocol', () => {
  it('has request and response codecs for every API key and every valid version', () => {
    const dir = join(schemaDir, 'messages');
    expect(existsSync(dir), `schema data not found at ${dir} (set FJORD_KAFKA_PROTOCOL_DIR)`).toBe(true);
    const missing: string[] = [];
    let checked = 0;
    for (const file of readdirSync(dir)) {
      const s = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        name: string;
        type: string;
        apiKey?: number;
        validVersions: string;
      };
      if (s.type !== 'request' && s.type !== 'response') continue;
      const range = parseRange(s.validVersions)!;
      const codec = API_CODEC_LIST[s.apiKey!];
      for (let v = range.min; v <= range.max; v++) {
        checked++;
        const dec = s.type === 'request' ? codec?.decodeRequest[v] : codec?.decodeResponse[v];
        const enc = s.type === 'request' ? codec?.encodeRequest[v] : codec?.encodeResponse[v];
        if (typeof dec !== 'function' || typeof enc !== 'function') missing.push(`${s.name} v${v}`);
      }
      expect(codec?.maxVersion).toBe(range.max);
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(600);
  });
});
