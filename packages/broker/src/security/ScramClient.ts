import { randomBytes, timingSafeEqual } from 'node:crypto';
import { scramKeys } from '@fjord/metadata';
import { hmac, SCRAM_HASH, type ScramMechanism, saltedPassword, xor } from './ScramCredential.js';

/** RFC 5802 `saslname` encoding: ',' is =2C, '=' is =3D. */
function encodeName(s: string): string {
  return s.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function attributes(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(',')) if (part[1] === '=') m.set(part[0]!, part.slice(2));
  return m;
}

export class ScramClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramClientError';
  }
}

/**
 * Client side of one SCRAM-SHA-256/512 exchange (RFC 5802 / 7677, as Kafka's ScramSaslClient),
 * the counterpart of ScramAuthenticator: client-first, then the client-final message with the
 * proof for the server-first message, then the server's signature checked, so a broker only
 * talks to a peer that knows the credential too. Pure apart from the nonce.
 */
export class ScramClientExchange {
  private readonly clientFirstBare: string;
  private readonly clientNonce: string;
  private expectedServerSignature?: Buffer;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly user: string,
    private readonly password: string,
    nonce: string = randomBytes(24).toString('base64'),
  ) {
    this.clientNonce = nonce;
    this.clientFirstBare = `n=${encodeName(user)},r=${nonce}`;
  }

  /** The client-first message (gs2 header without channel binding or authzid). */
  first(): Buffer {
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  /** The client-final message answering the server-first message. Throws ScramClientError. */
  final(serverFirstToken: Buffer): Buffer {
    const serverFirst = serverFirstToken.toString('utf8');
    const attrs = attributes(serverFirst);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (attrs.has('e')) throw new ScramClientError(`server refused: ${attrs.get('e')}`);
    if (!nonce || !salt || !Number.isInteger(iterations) || iterations < 1)
      throw new ScramClientError('invalid SCRAM server-first message');
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length)
      throw new ScramClientError('server nonce does not extend the client nonce');
    const hash = SCRAM_HASH[this.mechanism];
    const salted = saltedPassword(this.mechanism, this.password, Buffer.from(salt, 'base64'), iterations);
    const { clientKey, storedKey, serverKey } = scramKeys(this.mechanism, salted);
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(hash, storedKey, authMessage));
    this.expectedServerSignature = hmac(hash, serverKey, authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the server-final message's signature. Throws ScramClientError. */
  verify(serverFinalToken: Buffer): void {
    const attrs = attributes(serverFinalToken.toString('utf8'));
    if (attrs.has('e')) throw new ScramClientError(`server refused: ${attrs.get('e')}`);
    const v = attrs.get('v');
    const expected = this.expectedServerSignature;
    if (!expected || v === undefined) throw new ScramClientError('invalid SCRAM server-final message');
    const got = Buffer.from(v, 'base64');
    if (got.length !== expected.length || !timingSafeEqual(got, expected))
      throw new ScramClientError('server signature does not verify: the peer does not hold this credential');
  }

  /** The user this exchange authenticates (for messages). */
  get username(): string {
    return this.user;
  }
}
