import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext, type TlsOptions } from 'node:tls';
import { ConfigError } from '@fjord/metadata';
import { SslPrincipalMapper, SslPrincipalMappingError } from '../security/SslPrincipalMapper.js';

export type ClientAuth = 'none' | 'requested' | 'required';

/** What an SSL / SASL_SSL listener needs: node's TLS server options and how to name clients. */
export interface ListenerTls {
  readonly options: TlsOptions;
  readonly clientAuth: ClientAuth;
  readonly principalMapper: SslPrincipalMapper;
}

const PROTOCOLS = ['TLSv1.2', 'TLSv1.3'] as const;

/**
 * Builds a listener's TLS settings from Kafka's `ssl.*` keys, each overridable per listener as
 * `listener.name.<listener>.ssl.*`. Keystores: `ssl.keystore.type=PEM` with a file holding the
 * key and certificate chain (`ssl.keystore.location`, key passphrase `ssl.key.password`) or the
 * inline `ssl.keystore.key` / `ssl.keystore.certificate.chain`; `PKCS12` files with
 * `ssl.keystore.password`. Trust: PEM (`ssl.truststore.location` or
 * `ssl.truststore.certificates`). `ssl.client.auth` none / requested / required. Files are read
 * and the context is built now, so a broken key or path stops the broker at startup with the
 * key named.
 */
export function listenerTls(listener: string, raw: ReadonlyMap<string, string>): ListenerTls {
  const prefix = `listener.name.${listener.toLowerCase()}.`;
  const get = (k: string) => raw.get(prefix + k) ?? raw.get(k);
  const keyName = (k: string) => (raw.has(prefix + k) ? prefix + k : k);
  const file = (k: string) => {
    // Relative paths are the broker's working directory's (the zone agent's tls/<name>.pem).
    const path = resolve(get(k)!);
    try {
      return readFileSync(path);
    } catch (e) {
      throw new ConfigError(keyName(k), `cannot read ${path}: ${(e as Error).message}`);
    }
  };

  const options: TlsOptions = {};
  // Kafka defaults the type to JKS; with no type given the file's content decides between PEM and PKCS12.
  const sniff = (k: string) => (file(k).includes('-----BEGIN') ? 'PEM' : 'PKCS12');
  const keystoreType = (
    get('ssl.keystore.type') ??
    (get('ssl.keystore.location') !== undefined ? sniff('ssl.keystore.location') : 'PEM')
  ).toUpperCase();
  const inlineKey = get('ssl.keystore.key');
  const inlineChain = get('ssl.keystore.certificate.chain');
  if (inlineKey !== undefined || inlineChain !== undefined) {
    if (!inlineKey || !inlineChain)
      throw new ConfigError(
        keyName('ssl.keystore.key'),
        'ssl.keystore.key and ssl.keystore.certificate.chain go together',
      );
    options.key = inlineKey;
    options.cert = inlineChain;
    options.passphrase = get('ssl.key.password');
  } else if (get('ssl.keystore.location') !== undefined) {
    if (keystoreType === 'PEM') {
      const pem = file('ssl.keystore.location');
      options.key = pem;
      options.cert = pem;
      options.passphrase = get('ssl.key.password');
    } else if (keystoreType === 'PKCS12') {
      options.pfx = file('ssl.keystore.location');
      options.passphrase = get('ssl.keystore.password');
    } else
      throw new ConfigError(
        keyName('ssl.keystore.type'),
        `${keystoreType} keystores are not supported; use PEM or PKCS12 (keytool -importkeystore -deststoretype PKCS12 converts JKS)`,
      );
  } else
    throw new ConfigError(
      `${prefix}ssl.keystore.location`,
      `listener ${listener} uses TLS but has no keystore`,
    );

  const trustType = (get('ssl.truststore.type') ?? 'PEM').toUpperCase();
  const inlineTrust = get('ssl.truststore.certificates');
  if (inlineTrust !== undefined) options.ca = inlineTrust;
  else if (get('ssl.truststore.location') !== undefined) {
    if (trustType !== 'PEM')
      throw new ConfigError(
        keyName('ssl.truststore.type'),
        `${trustType} truststores are not supported; use PEM`,
      );
    options.ca = file('ssl.truststore.location');
  }

  const clientAuth = (get('ssl.client.auth') ?? 'none').toLowerCase();
  if (clientAuth !== 'none' && clientAuth !== 'requested' && clientAuth !== 'required')
    throw new ConfigError(
      keyName('ssl.client.auth'),
      `'${clientAuth}' is not one of none, requested, required`,
    );
  if (clientAuth !== 'none' && options.ca === undefined)
    throw new ConfigError(
      keyName('ssl.client.auth'),
      `${clientAuth} client authentication needs a truststore`,
    );
  options.requestCert = clientAuth !== 'none';
  // A certificate that does not verify fails the handshake when required; when only requested,
  // the connection decides (an unverifiable certificate is refused there, as JSSE would).
  options.rejectUnauthorized = clientAuth === 'required';

  const enabled = (get('ssl.enabled.protocols') ?? 'TLSv1.2,TLSv1.3')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const known = enabled.filter((p): p is (typeof PROTOCOLS)[number] =>
    (PROTOCOLS as readonly string[]).includes(p),
  );
  if (known.length === 0)
    throw new ConfigError(
      keyName('ssl.enabled.protocols'),
      `none of ${enabled.join(', ')} is supported (${PROTOCOLS.join(', ')})`,
    );
  options.minVersion = known.includes('TLSv1.2') ? 'TLSv1.2' : 'TLSv1.3';
  options.maxVersion = known.includes('TLSv1.3') ? 'TLSv1.3' : 'TLSv1.2';

  try {
    createSecureContext(options);
  } catch (e) {
    throw new ConfigError(
      keyName(
        options.pfx ? 'ssl.keystore.location' : inlineKey ? 'ssl.keystore.key' : 'ssl.keystore.location',
      ),
      `cannot use the keystore or truststore of listener ${listener}: ${(e as Error).message}`,
    );
  }

  let principalMapper: SslPrincipalMapper;
  try {
    principalMapper = new SslPrincipalMapper(get('ssl.principal.mapping.rules') ?? 'DEFAULT');
  } catch (e) {
    if (!(e instanceof SslPrincipalMappingError)) throw e;
    throw new ConfigError(keyName('ssl.principal.mapping.rules'), e.message);
  }
  return { options, clientAuth, principalMapper };
}

/** TLS settings for every SSL / SASL_SSL listener of the broker. */
export function tlsByListener(
  listeners: readonly { readonly name: string; readonly securityProtocol: string }[],
  raw: ReadonlyMap<string, string>,
): Map<string, ListenerTls> {
  const out = new Map<string, ListenerTls>();
  for (const l of listeners)
    if (l.securityProtocol === 'SSL' || l.securityProtocol === 'SASL_SSL')
      out.set(l.name, listenerTls(l.name, raw));
  return out;
}
