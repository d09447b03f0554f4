import { describe, expect, it } from 'vitest';
import { EffectiveConfigs, MetadataImage } from '../src/index.js';

describe('broker configs in DescribeConfigs', () => {
  it('reports the metadata database URL (it holds the PostgreSQL password) as sensitive, without its value', () => {
    const url = 'postgresql://fjord_md_ins_x:s3cret@127.0.0.1:5432/fjord';
    const statics = new Map<string, string | number>([
      ['fjord.metadata.database.url', url],
      ['num.partitions', 3],
    ]);
    const configs = new EffectiveConfigs(1, statics, new Set(statics.keys()));
    const entries = configs.describeBroker(MetadataImage.EMPTY);
    const md = entries.find((e) => e.name === 'fjord.metadata.database.url')!;
    expect(md).toMatchObject({ value: null, sensitive: true });
    expect(md.synonyms.length).toBeGreaterThan(0);
    expect(JSON.stringify(entries)).not.toContain('s3cret');
    expect(entries.find((e) => e.name === 'num.partitions')).toMatchObject({ value: '3', sensitive: false });
  });

  it('lists the listener registration keys as reconfigurable only when asked (releases before 4.0)', () => {
    const statics = new Map<string, string | number>([
      ['advertised.listeners', 'PLAINTEXT://b1:9092'],
      ['num.partitions', 3],
    ]);
    const readOnly = (reconfigurable: boolean) =>
      Object.fromEntries(
        new EffectiveConfigs(1, statics, new Set(statics.keys()), new Map(), reconfigurable)
          .describeBroker(MetadataImage.EMPTY)
          .map((e) => [e.name, e.readOnly]),
      );
    expect(readOnly(true)).toEqual({ 'advertised.listeners': false, 'num.partitions': true });
    expect(readOnly(false)).toEqual({ 'advertised.listeners': true, 'num.partitions': true });
  });
});
