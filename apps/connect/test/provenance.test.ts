import { describe, expect, it } from 'vitest';
import { PATH_HEADER, recordsToCopy } from '../src/mirror/provenance.js';
import type { SinkRecord } from '../src/s3/objectLayout.js';

const record = (offset: number, headers: [string, string][] = []): SinkRecord => ({
  topic: 'orders',
  partition: 0,
  offset: BigInt(offset),
  timestamp: 1000 + offset,
  key: Buffer.from(`k${offset}`),
  value: Buffer.from(`v${offset}`),
  headers: headers.map(([k, v]) => [Buffer.from(k), Buffer.from(v)] as const),
});
const headersOf = (r: SinkRecord) => r.headers.map(([k, v]) => [String(k), String(v)]);

describe('mirror provenance', () => {
  const rule = { sourceClusterId: 'cluster-a', targetClusterId: 'cluster-b', stamp: true };

  it("adds the source to each record's path: a new header after its own, or the path it has extended in place", () => {
    const out = recordsToCopy(
      [
        record(0, [['trace', 't0']]),
        record(1, [
          [PATH_HEADER, 'cluster-c'],
          ['trace', 't1'],
        ]),
      ],
      rule,
    );
    expect(out.map(headersOf)).toEqual([
      [
        ['trace', 't0'],
        [PATH_HEADER, 'cluster-a'],
      ],
      [
        [PATH_HEADER, 'cluster-c,cluster-a'],
        ['trace', 't1'],
      ],
    ]);
    expect(out.map((r) => [r.offset, String(r.key), String(r.value), r.timestamp])).toEqual([
      [0n, 'k0', 'v0', 1000],
      [1n, 'k1', 'v1', 1001],
    ]);
  });

  it('never copies a record into a cluster it has been in, stamping or not', () => {
    const fetched = [
      record(0),
      record(1, [[PATH_HEADER, 'cluster-b']]),
      record(2, [[PATH_HEADER, 'cluster-c,cluster-b']]), // b → c → a: not back into b
      record(3, [[PATH_HEADER, 'cluster-bb']]),
    ];
    expect(recordsToCopy(fetched, rule).map((r) => r.offset)).toEqual([0n, 3n]);
    const unstamped = recordsToCopy(fetched, { ...rule, stamp: false });
    expect(unstamped.map((r) => r.offset)).toEqual([0n, 3n]);
    expect(unstamped.map(headersOf)).toEqual([[], [[PATH_HEADER, 'cluster-bb']]]);
  });
});
