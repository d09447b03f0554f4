import { ApiKey } from '@fjord/protocol';
import type { ConnectionInfo } from '../network/RequestContext.js';

/** What a client may send on a SASL listener before it has authenticated. */
const PRE_AUTH_APIS: ReadonlySet<number> = new Set([
  ApiKey.ApiVersions,
  ApiKey.SaslHandshake,
  ApiKey.SaslAuthenticate,
]);

/** Kafka lets a connection re-authenticate at most once a second. */
const MIN_REAUTH_INTERVAL_MS = 1000;

export type SaslGate = { readonly kind: 'process' } | { readonly kind: 'close'; readonly reason: string };

const PROCESS: SaslGate = { kind: 'process' };

/**
 * Decides, before a request is parsed, what a SASL connection may do, as Kafka's network layer
 * does: before authentication only ApiVersions and the SASL requests (anything else closes the
 * connection); once authenticated, a request after the session expired closes it, and a
 * SaslHandshake on a connection whose session expires begins re-authentication (KIP-368).
 */
export function saslGate(connection: ConnectionInfo, apiKey: number, nowMs: number): SaslGate {
  const sasl = connection.sasl;
  if (!sasl) return PROCESS;
  if (sasl.stage !== 'authenticated')
    return PRE_AUTH_APIS.has(apiKey)
      ? PROCESS
      : {
          kind: 'close',
          reason: sasl.reauthenticating
            ? 'request during SASL re-authentication'
            : 'request before SASL authentication',
        };
  if (
    apiKey === ApiKey.SaslHandshake &&
    sasl.expiresAt !== undefined &&
    (sasl.lastReauthAt === undefined || nowMs - sasl.lastReauthAt >= MIN_REAUTH_INTERVAL_MS)
  ) {
    sasl.reauthenticating = { principal: connection.principal, mechanism: sasl.mechanism ?? '' };
    sasl.lastReauthAt = nowMs;
    sasl.stage = 'handshake';
    return PROCESS;
  }
  if (sasl.expiresAt !== undefined && nowMs > sasl.expiresAt)
    return { kind: 'close', reason: 'SASL session expired without re-authentication' };
  return PROCESS;
}

export type AuthenticationOutcome =
  | { readonly ok: true; readonly sessionLifetimeMs: number }
  | { readonly ok: false; readonly message: string };

/**
 * Finishes a successful SASL exchange: the connection is authenticated as `principal` until
 * now + `reauthMs` (when positive). A re-authentication must not change the principal.
 */
export function completeAuthentication(
  connection: ConnectionInfo,
  principal: string,
  reauthMs: number,
  nowMs: number,
): AuthenticationOutcome {
  const sasl = connection.sasl!;
  const previous = sasl.reauthenticating;
  sasl.step = undefined;
  if (previous && previous.principal !== principal)
    return {
      ok: false,
      message: `Cannot change principals during re-authentication from ${previous.principal}: ${principal}`,
    };
  sasl.stage = 'authenticated';
  sasl.reauthenticating = undefined;
  connection.principal = principal;
  sasl.expiresAt = reauthMs > 0 ? nowMs + reauthMs : undefined;
  return { ok: true, sessionLifetimeMs: Math.max(reauthMs, 0) };
}
