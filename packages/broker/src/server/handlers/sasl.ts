import { ApiKey, ErrorCode } from '@fjord/protocol';
import { defineHandler } from '../ApiHandler.js';

/**
 * SASL on a listener that does not use it: Kafka advertises SaslHandshake/SaslAuthenticate on
 * every listener and answers them with ILLEGAL_SASL_STATE where no SASL exchange is expected,
 * so a client configured for SASL against a PLAINTEXT port fails with a clear error.
 */
export const saslHandshakeHandler = defineHandler({
  apiKey: ApiKey.SaslHandshake,
  minVersion: 0,
  maxVersion: 1,
  handle: () => ({ errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] }),
});

export const saslAuthenticateHandler = defineHandler({
  apiKey: ApiKey.SaslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  handle: () => ({
    errorCode: ErrorCode.ILLEGAL_SASL_STATE,
    errorMessage: 'SASL is not enabled on this listener',
    authBytes: Buffer.alloc(0),
    sessionLifetimeMs: 0n,
  }),
});
