import { describe, expect, it } from 'vitest';
import { AccessRoute, parseCidr, RouteBodies, routeChangeNeedsRestart } from '../src/routes.js';

describe('access routes', () => {
  it('CIDRs: IPv4 and IPv6, with or without a prefix', () => {
    expect(parseCidr('203.0.113.0/24')).toEqual({ family: 4, bits: 24 });
    expect(parseCidr('10.1.2.3')).toEqual({ family: 4, bits: 32 });
    expect(parseCidr('::/0')).toEqual({ family: 6, bits: 0 });
    expect(parseCidr('2001:db8::/32')).toEqual({ family: 6, bits: 32 });
    expect(parseCidr('::ffff:192.0.2.1/128')).toEqual({ family: 6, bits: 128 });
    expect(parseCidr('1:2:3:4:5:6:7:8')).toEqual({ family: 6, bits: 128 });
    for (const bad of [
      '',
      '10.0.0.0/33',
      '256.0.0.1',
      '10.0.0/8',
      '01.2.3.4',
      '::1/129',
      '1::2::3',
      'a/b/c',
      '10.0.0.0/',
      'example.com',
      '1:2:3:4:5:6:7:8:9',
    ])
      expect(parseCidr(bad), bad).toBeUndefined();
  });

  it('defaults: PLAINTEXT internal, SASL_SSL public, open to everyone, said explicitly', () => {
    expect(AccessRoute.parse({ type: 'internal' })).toEqual({
      type: 'internal',
      securityProtocol: 'PLAINTEXT',
      allowedCidrs: ['0.0.0.0/0', '::/0'],
    });
    expect(AccessRoute.parse({ type: 'public' })).toMatchObject({ securityProtocol: 'SASL_SSL' });
  });

  it('a public route is never without TLS; mutual TLS needs a client CA and only it takes one', () => {
    expect(AccessRoute.safeParse({ type: 'public', securityProtocol: 'SASL_PLAINTEXT' }).success).toBe(false);
    const noCa = RouteBodies.public.safeParse({ securityProtocol: 'SSL' });
    expect(noCa.success).toBe(false);
    expect(noCa.error?.issues[0]?.path).toEqual(['clientCaBundle']);
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(RouteBodies.public.safeParse({ securityProtocol: 'SSL', clientCaBundle: pem }).success).toBe(true);
    expect(RouteBodies.public.safeParse({ clientCaBundle: pem }).success).toBe(false);
    expect(RouteBodies.internal.safeParse({ allowedCidrs: ['10.0.0.0/8', '10.0.0.0/8'] }).success).toBe(
      false,
    );
    expect(RouteBodies.internal.safeParse({ allowedCidrs: [] }).success).toBe(false);
  });
});

describe('route changes', () => {
  const internal = AccessRoute.parse({ type: 'internal' });
  const pub = AccessRoute.parse({ type: 'public' });
  it('allowlists change live; listeners, protocols and client CAs take a rolling restart', () => {
    expect(
      routeChangeNeedsRestart([internal, pub], [pub, { ...internal, allowedCidrs: ['10.0.0.0/8'] }]),
    ).toBe(false);
    expect(routeChangeNeedsRestart([internal, pub], [internal])).toBe(true);
    expect(routeChangeNeedsRestart([internal], [{ ...internal, securityProtocol: 'SASL_SSL' }])).toBe(true);
    const mtls = (ca: string) =>
      AccessRoute.parse({ type: 'public', securityProtocol: 'SSL', clientCaBundle: ca });
    const pem = (n: string) => `-----BEGIN CERTIFICATE-----\n${n}\n-----END CERTIFICATE-----`;
    expect(routeChangeNeedsRestart([mtls(pem('A'))], [mtls(pem('B'))])).toBe(true);
  });
});
