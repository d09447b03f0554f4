import type { PrismaClient } from '@fjord/db';
import { seal, unseal } from '@fjord/fleet';
import {
  createCertificateAuthority,
  type IssuedCertificate,
  issueServerCertificate,
  renewalDue,
} from './certificates.js';

const DAY_MS = 86_400_000;
/** The CA outlives every certificate it signs by far; replacing it is a planned, rare event. */
const CA_LIFETIME_MS = 10 * 365 * DAY_MS;
/** Broker certificates are short-lived and renewed at two thirds of their life (`renewalDue`). */
export const DEFAULT_BROKER_CERTIFICATE_LIFETIME_MS = 90 * DAY_MS;
/** Clock skew between the worker and clients: certificates are valid from a little before issue. */
const BACKDATE_MS = 5 * 60_000;

type Db = Pick<PrismaClient, 'certificateAuthority' | 'brokerCertificate'>;

export interface CertificateAuthorityKey {
  readonly id: string;
  readonly certificatePem: string;
  readonly keyPem: string;
}

/**
 * The deployment's CA: the newest one that is still valid for at least a broker certificate's
 * lifetime, created on first use. Concurrent workers may both create one; the row id is the
 * serial, so both rows are real CAs and the bundle names both.
 */
export async function deploymentCa(
  db: Db,
  adminSecret: string,
  now = new Date(),
): Promise<CertificateAuthorityKey> {
  const horizon = new Date(now.getTime() + DEFAULT_BROKER_CERTIFICATE_LIFETIME_MS);
  let row = await db.certificateAuthority.findFirst({
    where: { notAfter: { gt: horizon } },
    orderBy: { createdAt: 'desc' },
  });
  if (!row) {
    const ca = await createCertificateAuthority('Fjord brokers CA', {
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + CA_LIFETIME_MS),
    });
    row = await db.certificateAuthority.create({
      data: {
        id: ca.serial,
        certificatePem: ca.certificatePem,
        sealedKey: seal(ca.keyPem, adminSecret),
        notBefore: ca.notBefore,
        notAfter: ca.notAfter,
      },
    });
  }
  return { id: row.id, certificatePem: row.certificatePem, keyPem: unseal(row.sealedKey, adminSecret) };
}

/**
 * What clients of a TLS route should trust: every CA of the deployment that has not expired,
 * newest first, so a CA replacement overlaps; null before the first broker certificate exists.
 */
export async function deploymentCaBundle(db: Pick<PrismaClient, 'certificateAuthority'>, now = new Date()) {
  const rows = await db.certificateAuthority.findMany({
    where: { notAfter: { gt: now } },
    orderBy: { createdAt: 'desc' },
    select: { certificatePem: true },
  });
  return rows.length === 0 ? null : `${rows.map((r) => r.certificatePem.trim()).join('\n')}\n`;
}

export interface BrokerCertificateRequest {
  readonly instanceId: string;
  readonly brokerId: number;
  /** The TLS listener the certificate is for (PUBLIC). */
  readonly listener: string;
  /** Addresses clients reach the broker at on that listener. */
  readonly hosts: readonly string[];
  readonly lifetimeMs?: number;
}

/**
 * The broker's certificate for a listener: the stored one while it is not due for renewal and
 * names every host, otherwise a new one, stored (key sealed) before it is returned.
 */
export async function brokerCertificate(
  db: Db,
  adminSecret: string,
  req: BrokerCertificateRequest,
  now = new Date(),
): Promise<IssuedCertificate> {
  const where = {
    instanceId_brokerId_listener: {
      instanceId: req.instanceId,
      brokerId: req.brokerId,
      listener: req.listener,
    },
  };
  const stored = await db.brokerCertificate.findUnique({ where, include: { issuer: true } });
  if (stored && !renewalDue(stored, req.hosts, now))
    return {
      certificatePem: chainOf(stored.certificatePem, stored.issuer.certificatePem),
      keyPem: unseal(stored.sealedKey, adminSecret),
      serial: stored.serial,
      notBefore: stored.notBefore,
      notAfter: stored.notAfter,
    };
  const ca = await deploymentCa(db, adminSecret, now);
  const issued = await issueServerCertificate(ca, `${req.instanceId}-b${req.brokerId}`, req.hosts, {
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + (req.lifetimeMs ?? DEFAULT_BROKER_CERTIFICATE_LIFETIME_MS)),
  });
  const data = {
    serial: issued.serial,
    issuerId: ca.id,
    certificatePem: issued.certificatePem,
    sealedKey: seal(issued.keyPem, adminSecret),
    hosts: [...req.hosts],
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
  };
  await db.brokerCertificate.upsert({
    where,
    create: { ...where.instanceId_brokerId_listener, ...data },
    update: data,
  });
  return { ...issued, certificatePem: chainOf(issued.certificatePem, ca.certificatePem) };
}

/** The chain a broker presents: its certificate, then the CA's, so clients can build the path. */
const chainOf = (leaf: string, ca: string) => `${leaf.trim()}\n${ca.trim()}\n`;
