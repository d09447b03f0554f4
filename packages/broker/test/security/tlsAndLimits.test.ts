import { ConfigError, parseIpOverrides } from '@fjord/metadata';
import { describe, expect, it } from 'vitest';
import { ConnectionQuotas } from '../../src/network/ConnectionQuotas.js';
import { listenerTls } from '../../src/network/TlsContext.js';
import { rfc2253 } from '../../src/security/DistinguishedName.js';
import { SslPrincipalMapper, SslPrincipalMappingError } from '../../src/security/SslPrincipalMapper.js';

describe('SslPrincipalMapper (Kafka’s ssl.principal.mapping.rules)', () => {
  // Cases from Kafka's SslPrincipalMapperTest.
  it('applies rules in order, with L/U case folding and DEFAULT last', () => {
    const m = new SslPrincipalMapper(
      'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U,DEFAULT',
    );
    expect(m.name('CN=Duke,OU=ServiceUsers,O=Org,C=US')).toBe('Duke');
    expect(m.name('CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US')).toBe('duke@sme');
    expect(m.name('cn=duke,ou=JavaSoft,o=Sun Microsystems')).toBe('DUKE');
    expect(m.name('OU=JavaSoft,O=Sun Microsystems,C=US')).toBe('OU=JavaSoft,O=Sun Microsystems,C=US');
  });

  it('refuses DNs no rule matches, and bad rules at configuration time', () => {
    expect(() => new SslPrincipalMapper('RULE:^CN=(.*?),OU=x$/$1/').name('CN=a,OU=y')).toThrow(
      SslPrincipalMappingError,
    );
    for (const bad of ['DEFAULTS', 'RULE:', 'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/Z', 'RULE:^CN=(.*?)/$1'])
      expect(() => new SslPrincipalMapper(bad), bad).toThrow(SslPrincipalMappingError);
  });
});

describe('certificate subjects in RFC 2253 form (as Java’s X500Principal.getName)', () => {
  it('reverses RDNs, keeps escapes, joins multi-valued RDNs with +, prints emailAddress as an OID', () => {
    expect(rfc2253('C=NO\nO=Fjord Test\nOU=clients\nCN=alice')).toBe('CN=alice,OU=clients,O=Fjord Test,C=NO');
    expect(rfc2253('O=Fjord\\, Inc\nCN=alice + UID=a1')).toBe('CN=alice+UID=a1,O=Fjord\\, Inc');
    const ia5 = Buffer.concat([Buffer.from([0x16, 6]), Buffer.from('a@x.io')]).toString('hex');
    expect(rfc2253('CN=a\nemailAddress=a@x.io')).toBe(`1.2.840.113549.1.9.1=#${ia5},CN=a`);
  });
});

describe('connection limits (ConnectionQuotas)', () => {
  it('per ip with overrides, per listener, and in total with the inter-broker listener exempt', () => {
    const q = new ConnectionQuotas({
      maxConnections: 3,
      perListener: new Map([['PUBLIC', 2]]),
      maxPerIp: 2,
      perIpOverrides: parseIpOverrides('10.0.0.9:0, 10.0.0.5:5'),
      interBrokerListener: 'INTERNAL',
    });
    expect(q.admit('PUBLIC', '10.0.0.1')).toEqual({ ok: true });
    expect(q.admit('PUBLIC', '10.0.0.1')).toEqual({ ok: true });
    expect(q.admit('PUBLIC', '10.0.0.1')).toEqual({
      ok: false,
      reason: 'Too many connections from 10.0.0.1 (maximum = 2)',
    });
    expect(q.admit('PUBLIC', '10.0.0.5')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('listener PUBLIC'),
    });
    expect(q.admit('VPC', '10.0.0.5')).toEqual({ ok: true });
    expect(q.admit('VPC', '10.0.0.5')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('maximum of 3 connections'),
    });
    expect(q.admit('INTERNAL', '10.0.0.5')).toEqual({ ok: true }); // exempt from max.connections
    expect(q.admit('VPC', '10.0.0.9')).toMatchObject({ ok: false }); // override 0 shuts an address out
    q.release('PUBLIC', '10.0.0.1');
    expect(q.admit('VPC', '10.0.0.1')).toEqual({ ok: true });
    expect(() => parseIpOverrides('nocount')).toThrow(ConfigError);
  });
});

describe('listener TLS configuration', () => {
  it('names the key that is wrong', () => {
    const err = (raw: Record<string, string>) => {
      try {
        listenerTls('PUBLIC', new Map(Object.entries(raw)));
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(err({})).toMatch(/listener\.name\.public\.ssl\.keystore\.location.*no keystore/);
    expect(err({ 'listener.name.public.ssl.keystore.location': '/nonexistent.pem' })).toMatch(
      /listener\.name\.public\.ssl\.keystore\.location.*cannot read/,
    );
    expect(err({ 'ssl.keystore.location': '/etc/hostname', 'ssl.keystore.type': 'JKS' })).toMatch(
      /ssl\.keystore\.type.*JKS keystores are not supported/,
    );
    expect(err({ 'ssl.keystore.key': 'x' })).toMatch(/go together/);
  });
});
