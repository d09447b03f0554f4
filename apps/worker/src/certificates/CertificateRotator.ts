import { listenerOfRoute, usesTls } from '@fjord/contracts';
import type { BrokerPlacement, PrismaClient } from '@fjord/db';
import type { FleetDriver } from '@fjord/fleet';
import { renewalDue } from '@fjord/provisioning';
import type { Logger } from 'pino';
import { keystoreFileOf, listenerKey } from '../brokerSpec.js';
import { brokerConfigAdminOf, type WorkerSettings } from '../context.js';
import { routesOf } from '../flows/brokers.js';
import { applyRoutesLive } from '../flows/routeFlows.js';

/**
 * Keeps the brokers' TLS certificates fresh: a certificate past two thirds of its life (or not
 * naming the broker's address) is replaced by a new one, written next to the old and taken by the
 * broker as a dynamic config, so new connections get it and open ones stay — brokers are never
 * restarted for it, and they go one at a time. A broker that does not serve the certificate it
 * should (a pass that failed half-way) is set again.
 */
export class CertificateRotator {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly fleet: FleetDriver,
    private readonly settings: Pick<
      WorkerSettings,
      'adminSecret' | 'metadataDatabaseUrl' | 'brokerCertificateLifetimeMs' | 'readyTimeoutMs'
    >,
    private readonly log: Logger,
  ) {}

  async rotate(now = new Date()): Promise<void> {
    // Instances under an operation are left to it: every operation that starts brokers writes their specs.
    const instances = await this.prisma.instance.findMany({
      where: { status: 'RUNNING', deletedAt: null },
      include: { brokers: true, certificates: true },
    });
    const deps = { prisma: this.prisma, fleet: this.fleet, settings: this.settings };
    for (const ins of instances) {
      const tls = routesOf(ins).filter(usesTls);
      if (tls.length === 0) continue;
      for (const b of [...ins.brokers].sort((x, y) => x.brokerId - y.brokerId)) {
        if (b.status !== 'RUNNING') continue;
        const certs = tls.map((r) => ({
          listener: listenerOfRoute(r.type),
          cert: ins.certificates.find(
            (c) => c.brokerId === b.brokerId && c.listener === listenerOfRoute(r.type),
          ),
        }));
        const due = certs.some(({ cert }) => !cert || renewalDue(cert, [b.host], now));
        if (!due && (await this.servesStored(ins.id, b, certs))) continue;
        // An operation recorded meanwhile (new routes) owns the brokers' specs: leave it to it.
        const current = await this.prisma.instance.findUnique({ where: { id: ins.id } });
        if (current?.status !== 'RUNNING' || current.version !== ins.version) break;
        try {
          await applyRoutesLive(deps, ins, b);
          this.log.info(
            { instanceId: ins.id, brokerId: b.brokerId, renewed: due },
            'broker certificate rotated',
          );
        } catch (e) {
          this.log.warn(
            { instanceId: ins.id, brokerId: b.brokerId, err: (e as Error).message },
            'certificate rotation failed; next pass retries',
          );
        }
      }
    }
  }

  /**
   * Whether the broker reports the keystore of its stored certificates; an unreachable broker counts
   * as serving them (the health reconciler deals with it, and the next pass looks again).
   */
  private async servesStored(
    instanceId: string,
    b: BrokerPlacement,
    certs: readonly { listener: string; cert: { serial: string } | undefined }[],
  ): Promise<boolean> {
    const keys = certs.map(({ listener }) => listenerKey(listener, 'ssl.keystore.location'));
    const got = await brokerConfigAdminOf({ settings: this.settings }, instanceId, b)
      .get(b.brokerId, keys)
      .catch(() => undefined);
    if (!got) return true;
    return certs.every(
      ({ listener, cert }) =>
        cert && got[listenerKey(listener, 'ssl.keystore.location')] === keystoreFileOf(listener, cert.serial),
    );
  }
}
