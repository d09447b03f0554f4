// @peculiar/x509 resolves its ASN.1 serialisers through tsyringe, which needs the metadata polyfill.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/**
 * ECDSA P-256 with SHA-256: every client here verifies it (OpenSSL, Go, Node, Java), and a
 * handshake costs the broker far less than RSA-2048 does, which matters when many clients connect at once.
 */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface IssuedCertificate {
  /** PEM certificate. */
  readonly certificatePem: string;
  /** PEM PKCS#8 private key (unencrypted: sealed before it is stored, written 0600 where used). */
  readonly keyPem: string;
  /** Hex serial number, unique per issuer. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** 16 random bytes, top bit clear so the DER integer stays positive. */
function newSerial(): string {
  const b = randomBytes(16);
  // Positive (RFC 5280) and no leading zero byte, so the hex is exactly the DER integer every tool prints.
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b.toString('hex');
}

async function issued(
  cert: x509.X509Certificate,
  keys: CryptoKeyPair,
  serial: string,
  validity: Validity,
): Promise<IssuedCertificate> {
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certificatePem: cert.toString('pem'),
    keyPem: x509.PemConverter.encode(der, 'PRIVATE KEY'),
    serial,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
  };
}

async function importKey(keyPem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), ALGORITHM, false, [
    'sign',
  ]);
}

/** A self-signed CA that may sign server certificates only (path length 0). */
export async function createCertificateAuthority(
  commonName: string,
  validity: Validity,
): Promise<IssuedCertificate> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const serial = newSerial();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial,
    name: [{ O: ['Fjord'] }, { CN: [commonName] }],
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return issued(cert, keys, serial, validity);
}

/**
 * A TLS server certificate signed by `issuer`, naming `hosts` (IP addresses and DNS names) as
 * subject alternative names, which is what clients verify the broker's address against.
 */
export async function issueServerCertificate(
  issuer: { readonly certificatePem: string; readonly keyPem: string },
  commonName: string,
  hosts: readonly string[],
  validity: Validity,
): Promise<IssuedCertificate> {
  if (hosts.length === 0) throw new Error('a server certificate needs at least one host');
  const issuerCert = new x509.X509Certificate(issuer.certificatePem);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const serial = newSerial();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: [{ O: ['Fjord'] }, { CN: [commonName] }],
    issuer: issuerCert.subject,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey: keys.publicKey,
    signingKey: await importKey(issuer.keyPem),
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(issuerCert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return issued(cert, keys, serial, validity);
}

/**
 * Whether a certificate should be replaced now: two thirds of its life are gone (the rest is the
 * margin for a failed or slow rotation), or it does not name every host it must.
 */
export function renewalDue(
  cert: { readonly notBefore: Date; readonly notAfter: Date; readonly hosts: readonly string[] },
  hosts: readonly string[],
  now: Date,
): boolean {
  const life = cert.notAfter.getTime() - cert.notBefore.getTime();
  if (now.getTime() >= cert.notBefore.getTime() + (life * 2) / 3) return true;
  return hosts.some((h) => !cert.hosts.includes(h));
}
