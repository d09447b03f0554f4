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
});
