import { describe, expect, it } from 'vitest';
import { ORIGIN_HEADER, recordsToCopy } from '../src/mirror/provenance.js';
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

  it("stamps records produced on the source with its cluster id after their own headers, keeps another cluster's origin", () => {
    const out = recordsToCopy(
      [record(0, [['trace', 't0']]), record(1, [[ORIGIN_HEADER, 'cluster-c']])],
      rule,
    );
    expect(out.map(headersOf)).toEqual([
      [
        ['trace', 't0'],
        [ORIGIN_HEADER, 'cluster-a'],
      ],
      [[ORIGIN_HEADER, 'cluster-c']],
    ]);
    expect(out.map((r) => [r.offset, String(r.key), String(r.value), r.timestamp])).toEqual([
      [0n, 'k0', 'v0', 1000],
      [1n, 'k1', 'v1', 1001],
    ]);
  });

  it('never copies a record back to the cluster it came from, stamping or not', () => {
    const fetched = [record(0), record(1, [[ORIGIN_HEADER, 'cluster-b']]), record(2)];
    expect(recordsToCopy(fetched, rule).map((r) => r.offset)).toEqual([0n, 2n]);
    const unstamped = recordsToCopy(fetched, { ...rule, stamp: false });
    expect(unstamped.map((r) => r.offset)).toEqual([0n, 2n]);
    expect(unstamped.map(headersOf)).toEqual([[], []]);
  });
});
