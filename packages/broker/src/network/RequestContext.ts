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
  /** The broker's own in-process requests (the controller channel's loopback): always authorized. */
  readonly internal?: boolean;
}

/** Where a connection is in Kafka's SASL flow (KIP-43 / KIP-152, re-authentication KIP-368). */
export interface SaslConnectionState {
  stage: 'handshake' | 'authenticate' | 'raw-token' | 'authenticated';
  mechanism?: string;
  /** Feeds the next client token of the chosen mechanism. */
  step?: (token: Buffer) => import('../security/ScramAuthenticator.js').SaslStep;
  /** When the authenticated session ends (epoch ms; `connections.max.reauth.ms`); unset: never. */
  expiresAt?: number;
  /** Set while an authenticated client re-authenticates: what it must stay. */
  reauthenticating?: { readonly principal: string; readonly mechanism: string };
  /** The client asked to re-authenticate with another mechanism; the exchange fails. */
  badMechanism?: string;
  /** When the last re-authentication began (one per second at most, as Kafka allows). */
  lastReauthAt?: number;
}

/** A response with something to do once it is written. */
export interface FrameResponse {
  readonly chunks: readonly Buffer[];
  /** Close the connection after it (a failed authentication). */
  readonly thenClose?: boolean;
  /** Read no further requests for this long (a quota throttle, KIP-219); chunks may be empty. */
  readonly throttleMs?: number;
  /** Called once the chunks have been written to the socket (buffers they share may be reused). */
  readonly written?: () => void;
}

/**
 * Handles one complete request frame (header + body, size prefix removed). Returns the
 * response frame chunks (size prefix included), `null` for no response (acks=0 produce),
 * `'close'` to close the connection (what Kafka does for requests it cannot parse), or a
 * response with an action (close after it, or mute the channel for a throttle time).
 */
export type FrameResult = Buffer[] | null | 'close' | FrameResponse;

export interface FrameHandler {
  handleFrame(connection: ConnectionInfo, frame: Buffer): FrameResult | Promise<FrameResult>;
  /** Called once when a connection closes, to release per-connection state. */
  connectionClosed?(connection: ConnectionInfo): void;
}
