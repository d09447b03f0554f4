import { parseAllowedNetworks } from '@fjord/egress';
import { describe, expect, it } from 'vitest';
import { refusedWebhookUrl } from '../src/webhookTargets.js';

describe('webhook targets', () => {
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
});
