import { describe, expect, it } from 'vitest';
import { addressAllowed, parseAllowedNetworks, refusedRange } from '../src/allowedNetworks.js';
import { RefusedTarget, resolveAllowed } from '../src/guardedLookup.js';

describe('allowed networks', () => {
  it('allow public unicast addresses only, unless a network is listed', () => {
    for (const a of ['8.8.8.8', '203.0.114.7', '2001:4860:4860::8888'])
      expect(addressAllowed(a, []), a).toBe(true);
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254', // cloud metadata service
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '240.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      'fd00:ec2::254', // AWS's IPv6 metadata service
      'ff02::1',
      '::ffff:10.0.0.1', // a mapped address is judged as the IPv4 address it reaches
      '::ffff:169.254.169.254',
      'not an address',
    ])
      expect(addressAllowed(a, []), a).toBe(false);
    const allowed = parseAllowedNetworks('10.0.0.0/8, ::1/128');
    expect(addressAllowed('10.20.30.40', allowed)).toBe(true);
    expect(addressAllowed('::ffff:10.0.0.1', allowed)).toBe(true);
    expect(addressAllowed('::1', allowed)).toBe(true);
    expect(addressAllowed('192.168.1.1', allowed)).toBe(false);
    expect(addressAllowed('127.0.0.1', allowed)).toBe(false);
  });

  it('name the range that refuses an address', () => {
    expect(refusedRange('127.0.0.1', [])).toBe('loopback');
    expect(refusedRange('169.254.169.254', [])).toBe('linkLocal');
    expect(refusedRange('10.1.2.3', [])).toBe('private');
    expect(refusedRange('fd00::1', [])).toBe('uniqueLocal');
    expect(refusedRange('0.0.0.0', [])).toBe('unspecified');
    expect(refusedRange('224.0.0.1', [])).toBe('multicast');
    expect(refusedRange('8.8.8.8', [])).toBeUndefined();
    expect(refusedRange('10.1.2.3', parseAllowedNetworks('10.1.0.0/16'))).toBeUndefined();
  });

  it('name a bad network entry', () => {
    expect(parseAllowedNetworks(undefined)).toEqual([]);
    expect(parseAllowedNetworks(' ')).toEqual([]);
    expect(() => parseAllowedNetworks('10.0.0.0/8,10.0.0.300/8')).toThrow("'10.0.0.300/8'");
  });
});

describe('resolving a target', () => {
  it('judges every address a host resolves to, with the system resolver', async () => {
    await expect(resolveAllowed('127.0.0.1', [])).rejects.toThrow(
      new RefusedTarget('127.0.0.1 is not a public address (loopback)'),
    );
    // Other spellings of an address go through the resolver and are judged as what they reach.
    await expect(resolveAllowed('0x7f.1', [])).rejects.toBeInstanceOf(RefusedTarget);
    await expect(resolveAllowed('localhost', [])).rejects.toThrow(
      /^localhost resolves to (127\.0\.0\.1|::1), not a public address \(loopback\)$/,
    );
    const loopback = parseAllowedNetworks('127.0.0.0/8,::1/128');
    const addresses = await resolveAllowed('localhost', loopback);
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((a) => a.address === '127.0.0.1' || a.address === '::1')).toBe(true);
  });
});
