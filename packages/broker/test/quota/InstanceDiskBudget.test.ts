import { AlterConfigOp, MetadataImage, planAlterConfigs, replay } from '@fjord/metadata';
import { describe, expect, it } from 'vitest';
import { diskLimitsOf } from '../../src/quota/InstanceDiskBudget.js';

/** The image after the controller recorded `configs` on broker resource `name` ('' for all). */
function alter(img: MetadataImage, name: string, configs: Record<string, string>) {
  return replay(
    img,
    Object.entries(configs).map(([n, value], i) => ({
      offset: img.offset + 1 + i,
      record: {
        type: 'Config' as const,
        resourceType: 'broker' as const,
        resourceName: name,
        name: n,
        value,
      },
    })),
  );
}

const statics = { budgetBytes: 1000, highWaterRatio: 0.9 };

describe('diskLimitsOf', () => {
  it('takes the static budget without dynamic configs; none when it is 0', () => {
    expect(diskLimitsOf(MetadataImage.EMPTY, 1, statics)).toEqual({ budgetBytes: 1000, highWaterBytes: 900 });
    expect(diskLimitsOf(MetadataImage.EMPTY, 1, { ...statics, budgetBytes: 0 })).toBeUndefined();
  });

  it('prefers the broker’s own dynamic config, then the cluster-wide one, for budget and ratio apart', () => {
    const clusterWide = alter(MetadataImage.EMPTY, '', { 'fjord.instance.disk.bytes': '5000' });
    expect(diskLimitsOf(clusterWide, 1, statics)).toEqual({ budgetBytes: 5000, highWaterBytes: 4500 });
    const own = alter(clusterWide, '1', { 'fjord.instance.disk.high.water.ratio': '0.5' });
    expect(diskLimitsOf(own, 1, statics)).toEqual({ budgetBytes: 5000, highWaterBytes: 2500 });
    expect(diskLimitsOf(own, 2, statics)).toEqual({ budgetBytes: 5000, highWaterBytes: 4500 });
    // 0 lifts the budget at run time as it does statically.
    expect(diskLimitsOf(alter(own, '1', { 'fjord.instance.disk.bytes': '0' }), 1, statics)).toBeUndefined();
  });

  it('refuses a ratio outside (0, 1] and a negative budget, naming the key', () => {
    for (const [name, value] of [
      ['fjord.instance.disk.high.water.ratio', '1.5'],
      ['fjord.instance.disk.high.water.ratio', '0'],
      ['fjord.instance.disk.bytes', '-1'],
    ] as const) {
      const plan = planAlterConfigs(
        MetadataImage.EMPTY,
        'broker',
        '',
        [{ name, op: AlterConfigOp.SET, value }],
        true,
      );
      expect(plan).toMatchObject({ ok: false, error: 'INVALID_CONFIG' });
      if (!plan.ok) expect(plan.message).toContain(name);
    }
  });
});
