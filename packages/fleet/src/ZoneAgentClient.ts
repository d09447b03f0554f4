import type { BrokerHandle, BrokerSpec, FleetDriver, ZoneHealth } from './FleetDriver.js';
import { FleetError } from './FleetDriver.js';

export interface ZoneAgentEndpoint {
  readonly url: string;
}

/** FleetDriver over the zone agents' HTTP API; `agents` maps zone → agent URL. */
export class ZoneAgentClient implements FleetDriver {
  constructor(
    private readonly agents: (zone: string) => Promise<string>,
    private readonly secret: string,
    private readonly timeoutMs = 60_000,
  ) {}

  private async call<T>(zone: string, method: string, path: string, body?: unknown): Promise<T | undefined> {
    const base = await this.agents(zone);
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
      throw new FleetError(`zone agent of ${zone} (${base}) unreachable: ${(e as Error).message}`);
    }
    if (res.status === 404) return undefined;
    const text = await res.text();
    if (!res.ok) throw new FleetError(`zone agent of ${zone}: ${method} ${path} → ${res.status} ${text}`);
    return text ? (JSON.parse(text) as T) : undefined;
  }

  async ensureBroker(zone: string, spec: BrokerSpec): Promise<BrokerHandle> {
    const h = await this.call<BrokerHandle>(zone, 'PUT', `/brokers/${spec.key}`, spec);
    if (!h) throw new FleetError(`zone agent of ${zone} did not return the broker`);
    return h;
  }

  async stopBroker(zone: string, key: string): Promise<void> {
    await this.call(zone, 'POST', `/brokers/${key}/stop`);
  }

  async removeBroker(zone: string, key: string): Promise<void> {
    await this.call(zone, 'DELETE', `/brokers/${key}`);
  }

  async listBrokers(zone: string): Promise<BrokerHandle[]> {
    return (await this.call<{ items: BrokerHandle[] }>(zone, 'GET', '/brokers'))?.items ?? [];
  }

  getBroker(zone: string, key: string): Promise<BrokerHandle | undefined> {
    return this.call<BrokerHandle>(zone, 'GET', `/brokers/${key}`);
  }

  async health(zone: string): Promise<ZoneHealth> {
    const h = await this.call<ZoneHealth>(zone, 'GET', '/health');
    if (!h) throw new FleetError(`zone agent of ${zone} has no health endpoint`);
    return h;
  }
}
