import { createServer, type Server } from 'node:net';
import { FleetError } from '../FleetDriver.js';

/** An inclusive range of TCP ports brokers may be given (kept clear of the OS's ephemeral range). */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** `20000-29999` → a range; anything else is refused with the reason. */
export function parsePortRange(text: string): PortRange {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const from = Number(m?.[1]);
  const to = Number(m?.[2]);
  if (!m || from < 1 || to > 65_535 || from > to)
    throw new FleetError(`port range '${text}' is not FROM-TO within 1-65535`);
  return { from, to };
}

function listen(host: string, port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, host, () => resolve(s));
  });
}

/**
 * `count` free TCP ports on `host`, held open together while choosing so the same one is not
 * picked twice: any free ports (the OS's choice) without a range, else ports of the range that are
 * neither in `taken` (ports already given to brokers that may be stopped) nor bound now.
 */
export async function freePorts(
  host: string,
  count: number,
  range?: PortRange,
  taken: ReadonlySet<number> = new Set(),
): Promise<number[]> {
  const servers: Server[] = [];
  try {
    if (!range) {
      for (let i = 0; i < count; i++) {
        const s = await listen(host, 0);
        if (!s) throw new FleetError(`no free port on ${host}`);
        servers.push(s);
      }
    } else {
      const size = range.to - range.from + 1;
      // Start at a random place so agents sharing a range rarely race for the same port.
      const start = Math.floor(Math.random() * size);
      for (let i = 0; i < size && servers.length < count; i++) {
        const port = range.from + ((start + i) % size);
        if (taken.has(port)) continue;
        const s = await listen(host, port);
        if (s) servers.push(s);
      }
      if (servers.length < count)
        throw new FleetError(
          `only ${servers.length} of ${count} ports free in ${range.from}-${range.to} on ${host}`,
        );
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}
