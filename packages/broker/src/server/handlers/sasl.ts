import { ApiKey, ErrorCode } from '@fjord/protocol';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';

/** Slows every failed authentication down a little, as a brake on password guessing. */
export const AUTH_FAILURE_DELAY_MS = 200;

/**
 * SaslHandshake: picks the mechanism. On a listener without SASL it is answered with
 * ILLEGAL_SASL_STATE, as Kafka does. v0 switches the connection to raw SASL tokens; v1 to
 * SaslAuthenticate requests (KIP-152).
 */
export const saslHandshakeHandler = defineHandler({
  apiKey: ApiKey.SaslHandshake,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx: RequestContext) {
    const sasl = ctx.connection.sasl;
    if (!sasl || sasl.stage !== 'handshake')
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    const enabled = ctx.broker.sasl.mechanisms(ctx.connection.listenerName);
    if (!enabled.includes(req.mechanism))
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: enabled };
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
    if (!sasl || sasl.stage !== 'authenticate' || !sasl.step)
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: 'SaslAuthenticate before a successful SaslHandshake',
        ...empty,
      };
    const result = sasl.step(req.authBytes);
    if (result.kind === 'challenge')
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        authBytes: result.token,
        sessionLifetimeMs: 0n,
      };
    if (result.kind === 'success') {
      sasl.stage = 'authenticated';
      sasl.step = undefined;
      ctx.connection.principal = result.principal;
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        authBytes: result.token,
        sessionLifetimeMs: 0n,
      };
    }
    ctx.broker.log.info(
      {
        conn: ctx.connection.connectionId,
        client: ctx.connection.clientAddress,
        mechanism: sasl.mechanism,
        reason: result.message,
      },
      'authentication failed',
    );
    await new Promise((r) => setTimeout(r, AUTH_FAILURE_DELAY_MS));
    ctx.closeAfterResponse = true;
    return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: result.message, ...empty };
  },
});
