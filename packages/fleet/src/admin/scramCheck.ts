import { Connection } from '@platformatic/kafka';
import type { ScramMechanism } from './ScramAdmin.js';

/** @platformatic/kafka's code for SASL failures and its message for wrong credentials (vs. no such mechanism). */
const AUTHENTICATION = 'PLT_KFK_AUTHENTICATION';
const WRONG_CREDENTIALS = 'SASL authentication failed.';

function refusedCredentials(e: unknown): boolean {
  for (let c: unknown = e; c && typeof c === 'object'; c = (c as { cause?: unknown }).cause) {
    const err = c as { code?: unknown; message?: unknown };
    if (err.code === AUTHENTICATION && err.message === WRONG_CREDENTIALS) return true;
  }
  return false;
}

/**
 * Whether `password` is the SCRAM user's, asked of the broker itself: a SASL handshake with it.
 * No verifier is kept anywhere else, so there is nothing to take away and guess at offline. A
 * refusal is `false`; any other failure (no answer, mechanism not offered) is thrown.
 */
export async function scramPasswordMatches(
  target: { host: string; port: number },
  user: string,
  mechanism: ScramMechanism,
  password: string,
): Promise<boolean> {
  const c = new Connection('fjord-password-check', {
    // Failure detection only: a busy broker may answer slowly.
    connectTimeout: 30_000,
    sasl: { mechanism, username: user, password },
  });
  try {
    await c.connect(target.host, target.port);
    return true;
  } catch (e) {
    if (refusedCredentials(e)) return false;
    throw e;
  } finally {
    await c.close().catch(() => {});
  }
}
