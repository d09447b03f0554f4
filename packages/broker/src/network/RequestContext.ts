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
  /** SASL progress on SASL_* listeners; undefined where no authentication is required. */
  sasl?: SaslConnectionState;
  /** Set on requests another broker forwarded to this controller (they are not forwarded again). */
  readonly forwarded?: boolean;
}

/** Where a connection is in Kafka's SASL flow (KIP-43 / KIP-152). */
export interface SaslConnectionState {
  stage: 'handshake' | 'authenticate' | 'raw-token' | 'authenticated';
  mechanism?: string;
  /** Feeds the next client token of the chosen mechanism. */
  step?: (token: Buffer) => import('../security/ScramAuthenticator.js').SaslStep;
}

/**
 * Handles one complete request frame (header + body, size prefix removed). Returns the
 * response frame chunks (size prefix included), `null` for no response (acks=0 produce),
 * `'close'` to close the connection (what Kafka does for requests it cannot parse), or a
 * response to send before closing (a failed authentication).
 */
export type FrameResult = Buffer[] | null | 'close' | { readonly chunks: Buffer[]; readonly thenClose: true };

export interface FrameHandler {
  handleFrame(connection: ConnectionInfo, frame: Buffer): FrameResult | Promise<FrameResult>;
  /** Called once when a connection closes, to release per-connection state. */
  connectionClosed?(connection: ConnectionInfo): void;
}
