import { describe, expect, it } from 'vitest';
import { subjectOf, transitionOf } from '../src/alertmanagerWebhook.js';
import { signWebhook, verifyWebhook } from '../src/webhookSignature.js';

describe('webhook signatures', () => {
  it('verify with the right secret, body and a fresh timestamp only', () => {
    const sig = signWebhook('s3cret', 1000, '{"a":1}');
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhook('s3cret', 1000, '{"a":1}', sig, 1010)).toBe(true);
    expect(verifyWebhook('other', 1000, '{"a":1}', sig, 1010)).toBe(false);
    expect(verifyWebhook('s3cret', 1000, '{"a":2}', sig, 1010)).toBe(false);
    expect(verifyWebhook('s3cret', 1001, '{"a":1}', sig, 1010)).toBe(false);
    expect(verifyWebhook('s3cret', 1000, '{"a":1}', sig, 1000 + 301)).toBe(false);
  });
});

describe('alert state changes', () => {
  it('open once, resolve once, ignore repeats', () => {
    expect(transitionOf('firing', undefined)).toBe('open');
    expect(transitionOf('firing', 'firing')).toBe('none');
    expect(transitionOf('resolved', 'firing')).toBe('resolve');
    expect(transitionOf('resolved', 'resolved')).toBe('none');
    expect(transitionOf('resolved', undefined)).toBe('none');
    expect(transitionOf('firing', 'resolved')).toBe('none');
  });

  it('reads our labels and the value annotation, and skips foreign alerts', () => {
    const s = subjectOf({
      status: 'firing',
      labels: {
        fjord_alarm_policy: 'alm-1',
        fjord_instance: 'ins-1',
        group: 'g',
        instance: 'x',
        severity: 'info',
      },
      annotations: { value: '42' },
      startsAt: '2026-12-05T10:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: 'abc',
    });
    expect(s).toMatchObject({
      policyId: 'alm-1',
      instanceId: 'ins-1',
      labels: { group: 'g' },
      value: 42,
      endsAt: null,
    });
    expect(
      subjectOf({
        status: 'firing',
        labels: { alertname: 'x' },
        annotations: {},
        startsAt: '2026-12-05T10:00:00Z',
        fingerprint: 'f',
      }),
    ).toBeUndefined();
  });
});
