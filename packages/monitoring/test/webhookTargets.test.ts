import { describe, expect, it } from 'vitest';
import { parseAllowedNetworks, refusedWebhookUrl, webhookAddressAllowed } from '../src/webhookTargets.js';

describe('webhook targets', () => {
  it('allow public unicast addresses only, unless a network is listed', () => {
    for (const a of ['8.8.8.8', '203.0.114.7', '2001:4860:4860::8888'])
      expect(webhookAddressAllowed(a, [])).toBe(true);
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254', // cloud metadata service
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:10.0.0.1', // a mapped address is judged as the IPv4 address it reaches
      'not an address',
    ])
      expect(webhookAddressAllowed(a, []), a).toBe(false);
    const allowed = parseAllowedNetworks('10.0.0.0/8, ::1/128');
    expect(webhookAddressAllowed('10.20.30.40', allowed)).toBe(true);
    expect(webhookAddressAllowed('::ffff:10.0.0.1', allowed)).toBe(true);
    expect(webhookAddressAllowed('::1', allowed)).toBe(true);
    expect(webhookAddressAllowed('192.168.1.1', allowed)).toBe(false);
    expect(webhookAddressAllowed('127.0.0.1', allowed)).toBe(false);
  });

  it('refuse literal non-public hosts and localhost in URLs, and leave names to delivery', () => {
    const refused = (u: string, spec?: string) => refusedWebhookUrl(new URL(u), parseAllowedNetworks(spec));
    expect(refused('http://169.254.169.254/latest/meta-data')).toBe(
      '169.254.169.254 is not a public address',
    );
    expect(refused('http://[::1]:8080/')).toBe('::1 is not a public address');
    // The URL parser normalises other spellings of an address first.
    expect(refused('http://0x7f.1/')).toBe('127.0.0.1 is not a public address');
    expect(refused('http://localhost:9093/')).toBe('localhost is not a public address');
    expect(refused('http://api.localhost/')).toBe('api.localhost is not a public address');
    expect(refused('https://hooks.example.com/alarms')).toBeUndefined();
    expect(refused('https://8.8.8.8/')).toBeUndefined();
    expect(refused('http://127.0.0.1:9000/', '127.0.0.0/8')).toBeUndefined();
    expect(refused('http://localhost:9000/', '127.0.0.0/8')).toBeUndefined();
  });

  it('name a bad network entry', () => {
    expect(parseAllowedNetworks(undefined)).toEqual([]);
    expect(parseAllowedNetworks(' ')).toEqual([]);
    expect(() => parseAllowedNetworks('10.0.0.0/8,10.0.0.300/8')).toThrow("'10.0.0.300/8'");
  });
});
