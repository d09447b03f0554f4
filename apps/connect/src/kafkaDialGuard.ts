import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { isIP, type Socket } from 'node:net';
import { type AllowedNetworks, refusedResolution } from '@fjord/egress';

/**
 * The `context` of Kafka clients that reach the connector's own instance (its CONTROL listener,
 * internal by design): the only connections the dial guard lets through unchecked.
 */
export const INSTANCE_DIAL = Object.freeze({ dial: 'fjord-instance' });

/** `@platformatic/kafka` publishes here once `Connection.connect` has made its socket, before it dials. */
const CONNECTS_END = 'tracing:plt:kafka:connections:connects:end';

interface ConnectEnd {
  readonly host?: string;
  readonly connection?: { readonly context?: unknown; readonly socket?: Socket; readonly status?: string };
}

/**
 * Checks every Kafka connection this process opens, except those with `INSTANCE_DIAL`, against the
 * egress rules: bootstrap servers and the brokers a cluster's metadata names alike (a source could
 * advertise 169.254.169.254 as a broker). The client offers no lookup hook for plaintext sockets,
 * so the guard works on the socket it has just created, which has not dialled yet: an IP literal
 * is judged at once, a name on each address its own lookup yields (the socket's `lookup` events,
 * all emitted before its first connection attempt). A refused socket is destroyed before it
 * connects, and the client sees a connection error whose cause is the `RefusedTarget`. Returns the
 * uninstaller.
 */
export function guardKafkaDials(allowed: AllowedNetworks): () => void {
  const seen = new WeakSet<Socket>();
  const onConnect = (message: unknown) => {
    const { host, connection } = message as ConnectEnd;
    const socket = connection?.socket;
    if (!host || !socket || connection.context === INSTANCE_DIAL || seen.has(socket)) return;
    // connect() on a connection already up publishes too; only a socket still dialling is judged.
    if (connection.status !== 'connecting') return;
    seen.add(socket);
    if (isIP(host)) {
      const refused = refusedResolution(host, host, allowed);
      if (refused) socket.destroy(refused);
      return;
    }
    socket.on('lookup', (err: Error | null, address: string) => {
      if (err || socket.destroyed) return;
      const refused = refusedResolution(host, address, allowed);
      if (refused) socket.destroy(refused);
    });
  };
  subscribe(CONNECTS_END, onConnect);
  return () => unsubscribe(CONNECTS_END, onConnect);
}
