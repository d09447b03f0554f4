import { createHash, timingSafeEqual } from 'node:crypto';
import type { SaslStep } from './ScramAuthenticator.js';

/** PLAIN users, as Kafka's inline JAAS config lists them (`user_<name>="<password>"`). */
export type PlainUsers = ReadonlyMap<string, string>;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * SASL PLAIN (RFC 4616): one message `authzid NUL authcid NUL passwd`. Passwords are compared
 * as digests in constant time, so neither length nor content leaks through timing.
 */
export function authenticatePlain(token: Buffer, users: PlainUsers): SaslStep {
  if (token.length > 1024) return { kind: 'failure', message: 'SASL/PLAIN token too large' };
  const parts = token.toString('utf8').split('\u0000');
  if (parts.length !== 3)
    return { kind: 'failure', message: 'Invalid SASL/PLAIN response: expected 3 tokens' };
  const [authzid, user, password] = parts as [string, string, string];
  if (user === '') return { kind: 'failure', message: 'Authentication failed: username not specified' };
  if (authzid !== '' && authzid !== user)
    return {
      kind: 'failure',
      message: 'Authentication failed: Client requested an authorization id that is different from username',
    };
  const expected = users.get(user);
  const ok =
    timingSafeEqual(digest(password), digest(expected ?? `\u0000no-such-user:${password}`)) &&
    expected !== undefined;
  if (!ok) return { kind: 'failure', message: 'Authentication failed: Invalid username or password' };
  return { kind: 'success', token: Buffer.alloc(0), principal: `User:${user}` };
}
