import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressBytes, CidrAllowlist, parseCidr } from '../src/config/CidrAllowlist.js';
import { ConfigSource, EffectiveConfigs } from '../src/config/EffectiveConfigs.js';
import { allowedCidrsKey, listenerConfigDef } from '../src/config/ListenerConfigDefs.js';
import { planAlterConfigs } from '../src/controller/ConfigPlanner.js';
import { replay } from '../src/image/MetadataDelta.js';
import { MetadataImage } from '../src/image/MetadataImage.js';
import type { MetadataRecord } from '../src/records.js';

const list = (text: string) => {
  const l = CidrAllowlist.parse(text);
  if (typeof l === 'string') throw new Error(l);
  return l;
};

describe('CIDR allowlists (fjord.allowed.cidrs)', () => {
  it('matches IPv4 and IPv6 ranges, IPv4-mapped IPv6 addresses against IPv4 ranges', () => {
    const l = list('10.0.0.0/8, 127.0.0.1/32,::1/128,2001:db8::/32');
    for (const a of [
      '10.1.2.3',
      '10.255.255.255',
      '127.0.0.1',
      '::ffff:127.0.0.1',
      '::ffff:10.9.9.9',
      '::1',
      '2001:db8:ffff::7',
    ])
      expect(l.allows(a), a).toBe(true);
    for (const a of ['11.0.0.1', '127.0.0.2', '::ffff:127.0.0.2', '::2', '2001:db9::1', 'localhost', ''])
      expect(l.allows(a), a).toBe(false);
    expect(list('0.0.0.0/0').allows('::ffff:1.2.3.4')).toBe(true);
    expect(list('0.0.0.0/0').allows('::1')).toBe(false);
    expect(list('::/0').allows('8.8.8.8')).toBe(true);
    expect(list('192.168.1.7').allows('192.168.1.7')).toBe(true); // a bare address is one host
    expect(list('fe80::/10').allows('fe80::1%eth0')).toBe(true);
  });

  it('lets everyone in when the setting is empty', () => {
    expect(list('').allowsEveryone).toBe(true);
    expect(list(' , ').allows('203.0.113.9')).toBe(true);
  });

  it('refuses malformed ranges, saying which', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0/8',
      '256.0.0.0/8',
      '10.0.0.1/8',
      'fe80::/129',
      '1:2:3:4:5:6:7:8:9',
      '::1::/128',
      'abc',
      '10.0.0.0/',
      '10.0.0.0/-1',
    ])
      expect(typeof parseCidr(bad), bad).toBe('string');
    expect(CidrAllowlist.parse('10.0.0.0/8,10.0.0.1/8')).toMatch(
      /'10\.0\.0\.1\/8' has host bits set \(the network is 10\.0\.0\.0\/8\)/,
    );
  });

  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const toBits = (a: number[]) => a.map((b) => b.toString(2).padStart(8, '0')).join('');

  it('agrees with a bit-string model for IPv4 (property)', () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.nat(32), (net, addr, prefix) => {
        const bits = toBits(net).slice(0, prefix).padEnd(32, '0');
        const network = [0, 8, 16, 24].map((i) => Number.parseInt(bits.slice(i, i + 8), 2));
        const l = list(`${network.join('.')}/${prefix}`);
        const expected = toBits(addr).slice(0, prefix) === bits.slice(0, prefix);
        return l.allows(addr.join('.')) === expected && l.allows(`::ffff:${addr.join('.')}`) === expected;
      }),
    );
  });

  it('reads every IPv6 spelling of an address the same (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }), (words) => {
        const full = words.map((w) => w.toString(16)).join(':');
        const padded = words.map((w) => w.toString(16).padStart(4, '0')).join(':');
        const a = addressBytes(full)!;
        expect(addressBytes(padded)).toEqual(a);
        expect(list(`${full}/128`).allows(padded.toUpperCase())).toBe(true);
      }),
    );
  });
});

describe('listener.name.<l>.fjord.allowed.cidrs as a dynamic broker config', () => {
  const image = MetadataImage.EMPTY;

  it('is accepted per broker and as the cluster default, and an invalid range is INVALID_CONFIG naming the key', () => {
    const key = allowedCidrsKey('PUBLIC');
    expect(key).toBe('listener.name.public.fjord.allowed.cidrs');
    expect(listenerConfigDef(key)?.perBrokerOnly).toBe(false);
    const ok = planAlterConfigs(
      image,
      'broker',
      '',
      [{ name: key, op: 0, value: '10.0.0.0/8,::1/128' }],
      true,
    );
    expect(ok).toEqual({
      ok: true,
      records: [
        { type: 'Config', resourceType: 'broker', resourceName: '', name: key, value: '10.0.0.0/8,::1/128' },
      ],
    });
    const bad = planAlterConfigs(image, 'broker', '', [{ name: key, op: 0, value: '10.0.0.0/40' }], true);
    expect(bad).toMatchObject({ ok: false, error: 'INVALID_CONFIG' });
    expect(bad.ok ? '' : bad.message).toContain(key);
  });

  it('keeps listener TLS files per broker: refused as a cluster default', () => {
    const plan = planAlterConfigs(
      image,
      'broker',
      '',
      [{ name: 'listener.name.sasl_ssl.ssl.keystore.location', op: 0, value: 'tls/b.pem' }],
      true,
    );
    expect(plan).toMatchObject({ ok: false, error: 'INVALID_REQUEST' });
  });

  it('shows in DescribeConfigs of the broker, with key passwords hidden', () => {
    const configs: [string, string, string][] = [
      ['1', allowedCidrsKey('PUBLIC'), '10.0.0.0/8'],
      ['', allowedCidrsKey('VPC'), '192.168.0.0/16'],
      ['1', 'listener.name.public.ssl.key.password', 'hunter2'],
      ['2', allowedCidrsKey('OTHER'), '10.0.0.0/8'],
    ];
    const withConfigs = replay(
      MetadataImage.EMPTY,
      configs.map(([resourceName, name, value], offset) => ({
        offset,
        record: { type: 'Config', resourceType: 'broker', resourceName, name, value } as MetadataRecord,
      })),
    );
    const entries = new EffectiveConfigs(1, new Map([['node.id', 1]]), new Set(['node.id'])).describeBroker(
      withConfigs,
    );
    const entry = (name: string) => entries.find((e) => e.name === name);
    expect(entry(allowedCidrsKey('PUBLIC'))).toMatchObject({
      value: '10.0.0.0/8',
      source: ConfigSource.DYNAMIC_BROKER_CONFIG,
      readOnly: false,
      sensitive: false,
    });
    expect(entry(allowedCidrsKey('VPC'))).toMatchObject({
      source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
    });
    const password = entry('listener.name.public.ssl.key.password')!;
    expect(password).toMatchObject({ value: null, sensitive: true });
    expect(password.synonyms.every((s) => s.value === null)).toBe(true);
    expect(entry(allowedCidrsKey('OTHER'))).toBeUndefined(); // broker 2's
  });
});
