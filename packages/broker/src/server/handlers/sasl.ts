import { ApiKey, ErrorCode } from '@fjord/protocol';
import { completeAuthentication } from '../../security/SaslSession.js';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';

/** Slows every failed authentication down a little, as a brake on password guessing. */
export const AUTH_FAILURE_DELAY_MS = 200;

/**
 * SaslHandshake: picks the mechanism. On a listener without SASL, or on an authenticated
 * connection that may not re-authenticate, it is answered with ILLEGAL_SASL_STATE, as Kafka
 * does. v0 switches the connection to raw SASL tokens; v1 to SaslAuthenticate requests
 * (KIP-152). A re-authentication (KIP-368) must keep its mechanism: another one is accepted
 * here and fails at the next token, as Kafka's authenticator does.
 */
export const saslHandshakeHandler = defineHandler({
  apiKey: ApiKey.SaslHandshake,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx: RequestContext) {
    const sasl = ctx.connection.sasl;
    if (sasl?.stage !== 'handshake') return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    const enabled = ctx.broker.sasl.mechanisms(ctx.connection.listenerName);
    if (!enabled.includes(req.mechanism)) {
      ctx.broker.log.info(
        { conn: ctx.connection.connectionId, client: ctx.connection.clientAddress, mechanism: req.mechanism },
        'unsupported SASL mechanism, closing connection',
      );
      ctx.closeAfterResponse = true;
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: enabled };
    }
    sasl.badMechanism =
      sasl.reauthenticating && sasl.reauthenticating.mechanism !== req.mechanism ? req.mechanism : undefined;
    sasl.mechanism = req.mechanism;
    const image = ctx.broker.metadata;
    sasl.step = ctx.broker.sasl.authenticator(ctx.connection.listenerName, req.mechanism, (user, mechanism) =>
      image.image.scram.get(user, mechanism),
    );
    sasl.stage = ctx.apiVersion === 0 ? 'raw-token' : 'authenticate';
    return { errorCode: ErrorCode.NONE, mechanisms: enabled };
  },
});

export const saslAuthenticateHandler = defineHandler({
  apiKey: ApiKey.SaslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx: RequestContext) {
    const sasl = ctx.connection.sasl;
    const empty = { authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n };
    if (sasl?.stage !== 'authenticate' || !sasl.step)
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: 'SaslAuthenticate before a successful SaslHandshake',
        ...empty,
      };
    const fail = async (message: string) => {
      ctx.broker.log.info(
        {
          conn: ctx.connection.connectionId,
          client: ctx.connection.clientAddress,
          mechanism: sasl.mechanism,
          reauthentication: sasl.reauthenticating !== undefined,
          reason: message,
        },
        'authentication failed',
      );
      await new Promise((r) => setTimeout(r, AUTH_FAILURE_DELAY_MS));
      ctx.closeAfterResponse = true;
      return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: message, ...empty };
    };
    if (sasl.badMechanism) {
      const message = `SASL mechanism '${sasl.badMechanism}' requested by client is not supported for re-authentication of mechanism '${sasl.reauthenticating?.mechanism}'`;
      await fail(message);
      return null; // Kafka closes without a response here.
    }
    const result = sasl.step(req.authBytes);
    if (result.kind === 'challenge')
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        authBytes: result.token,
        sessionLifetimeMs: 0n,
      };
    if (result.kind === 'failure') return fail(result.message);
    const reauthMs = ctx.broker.sasl.reauthMs(ctx.connection.listenerName, sasl.mechanism!);
    const reauthentication = sasl.reauthenticating !== undefined;
    const outcome = completeAuthentication(ctx.connection, result.principal, reauthMs, ctx.broker.now());
    if (!outcome.ok) return fail(outcome.message);
    if (reauthentication)
      ctx.broker.log.info(
        {
          conn: ctx.connection.connectionId,
          principal: result.principal,
          sessionLifetimeMs: outcome.sessionLifetimeMs,
        },
        'SASL re-authenticated',
      );
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      authBytes: result.token,
      sessionLifetimeMs: BigInt(outcome.sessionLifetimeMs),
    };
  },
});
