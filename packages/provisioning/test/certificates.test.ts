import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueServerCertificate, renewalDue } from '../src/tls/certificates.js';

const DAY = 86_400_000;
const now = new Date('2026-12-05T12:00:00Z');
const validity = (days: number) => ({ notBefore: now, notAfter: new Date(now.getTime() + days * DAY) });

describe('deployment CA and broker certificates', () => {
  it('a CA signs server certificates that name their hosts and chain to it', async () => {
    const ca = await createCertificateAuthority('Test CA', validity(3650));
    const caCert = new X509Certificate(ca.certificatePem);
    expect(caCert.ca).toBe(true);
    const leaf = await issueServerCertificate(
      ca,
      'ins-1-b1',
      ['127.0.0.1', 'broker-1.example.net'],
      validity(90),
    );
    const cert = new X509Certificate(leaf.certificatePem);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.subjectAltName).toBe('IP Address:127.0.0.1, DNS:broker-1.example.net');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('broker-1.example.net')).toBe('broker-1.example.net');
    expect(cert.checkHost('other.example.net')).toBeUndefined();
    expect(cert.serialNumber.toLowerCase()).toBe(leaf.serial);
    expect(new Date(cert.validTo).getTime()).toBe(now.getTime() + 90 * DAY);
    expect(leaf.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('serials differ between certificates', async () => {
    const ca = await createCertificateAuthority('Test CA', validity(10));
    const a = await issueServerCertificate(ca, 'x', ['127.0.0.1'], validity(1));
    const b = await issueServerCertificate(ca, 'x', ['127.0.0.1'], validity(1));
    expect(a.serial).not.toBe(b.serial);
  });

  it('renewal is due at two thirds of the life, or when a host is not named', () => {
    const cert = { ...validity(90), hosts: ['10.0.0.1'] };
    expect(renewalDue(cert, ['10.0.0.1'], new Date(now.getTime() + 59 * DAY))).toBe(false);
    expect(renewalDue(cert, ['10.0.0.1'], new Date(now.getTime() + 60 * DAY))).toBe(true);
    expect(renewalDue(cert, ['10.0.0.2'], now)).toBe(true);
  });
});
