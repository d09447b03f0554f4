import type { BrokerHandle, BrokerSpec, FleetDriver, PlacementTarget, ZoneHealth } from './FleetDriver.js';
import { FleetError } from './FleetDriver.js';

/** FleetDriver over the zone agents' HTTP API; `agents` gives a host's agent URL. */
export class ZoneAgentClient implements FleetDriver {
  constructor(
    private readonly agents: (target: PlacementTarget) => Promise<string>,
    private readonly secret: string,
    private readonly timeoutMs = 60_000,
  ) {}

  private async call<T>(
    target: PlacementTarget,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T | undefined> {
    const base = await this.agents(target);
    const agent = `zone agent of ${target.zone}/${target.host}`;
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.secret}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new FleetError(`${agent} (${base}) unreachable: ${(e as Error).message}`);
    }
    if (res.status === 404) return undefined;
    const text = await res.text();
    if (!res.ok) throw new FleetError(`${agent}: ${method} ${path} → ${res.status} ${text}`);
    return text ? (JSON.parse(text) as T) : undefined;
  }

  async ensureBroker(target: PlacementTarget, spec: BrokerSpec): Promise<BrokerHandle> {
    const h = await this.call<BrokerHandle>(target, 'PUT', `/brokers/${spec.key}`, spec);
    if (!h) throw new FleetError(`zone agent of ${target.zone}/${target.host} did not return the broker`);
    return h;
  }

  async stopBroker(target: PlacementTarget, key: string): Promise<void> {
    await this.call(target, 'POST', `/brokers/${key}/stop`);
  }

  async removeBroker(target: PlacementTarget, key: string): Promise<void> {
    await this.call(target, 'DELETE', `/brokers/${key}`);
  }

  async listBrokers(target: PlacementTarget): Promise<BrokerHandle[]> {
    return (await this.call<{ items: BrokerHandle[] }>(target, 'GET', '/brokers'))?.items ?? [];
  }

  getBroker(target: PlacementTarget, key: string): Promise<BrokerHandle | undefined> {
    return this.call<BrokerHandle>(target, 'GET', `/brokers/${key}`);
  }

  async health(target: PlacementTarget): Promise<ZoneHealth> {
    const h = await this.call<ZoneHealth>(target, 'GET', '/health');
    if (!h) throw new FleetError(`zone agent of ${target.zone}/${target.host} has no health endpoint`);
    return h;
  }
}
