import type { SecurityProtocol } from '../config/BrokerConfig.js';

/** What a request handler knows about the connection a request came in on. */
export interface ConnectionInfo {
  readonly connectionId: string;
  readonly listenerName: string;
  readonly securityProtocol: SecurityProtocol;
  readonly clientAddress: string;
  readonly clientPort: number;
  /** Authenticated principal, e.g. `User:ANONYMOUS` before/without SASL. */
  principal: string;
}

/**
 * Handles one complete request frame (header + body, size prefix removed). Returns the
 * response frame chunks (size prefix included), `null` for no response (acks=0 produce),
 * or `'close'` to close the connection (what Kafka does for requests it cannot parse).
 */
export type FrameResult = Buffer[] | null | 'close';

export interface FrameHandler {
  handleFrame(connection: ConnectionInfo, frame: Buffer): FrameResult | Promise<FrameResult>;
  /** Called once when a connection closes, to release per-connection state. */
  connectionClosed?(connection: ConnectionInfo): void;
}
