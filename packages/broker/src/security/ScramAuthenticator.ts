import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hmac, SCRAM_HASH, type ScramCredential, type ScramMechanism, xor } from './ScramCredential.js';

export type SaslStep =
  | { readonly kind: 'challenge'; readonly token: Buffer }
  | { readonly kind: 'success'; readonly token: Buffer; readonly principal: string }
  | { readonly kind: 'failure'; readonly message: string };

/** Looks up a user's credential for a mechanism; undefined when there is none. */
export type ScramCredentialLookup = (user: string, mechanism: ScramMechanism) => ScramCredential | undefined;

const MAX_TOKEN = 8192;

/** RFC 5802 `saslname` decoding: =2C is ',', =3D is '='. */
function decodeName(s: string): string | undefined {
  if (/=(?!2C|3D)/.test(s)) return undefined;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function attributes(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) m.set(part[0]!, part.slice(2));
  }
  return m;
}

/**
 * Server side of one SCRAM-SHA-256/512 exchange (RFC 5802 / 7677, as Kafka's
 * ScramSaslServer): client-first → server-first (nonce, salt, iterations) → client-final with
 * proof → server-final with signature. Unknown users get a made-up salt so the exchange looks
 * the same until the proof fails; proofs are compared in constant time.
 */
export class ScramAuthenticator {
  private state: 'first' | 'final' | 'done' = 'first';
  private user = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private credential?: ScramCredential;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: ScramCredentialLookup,
    /** The server's part of the nonce; injectable for RFC test vectors. */
    private readonly serverNonce: () => string = () => randomBytes(18).toString('base64'),
  ) {}

  step(token: Buffer): SaslStep {
    if (token.length > MAX_TOKEN) return this.fail('SASL token too large');
    const text = token.toString('utf8');
    if (this.state === 'first') return this.first(text);
    if (this.state === 'final') return this.final(text);
    return this.fail('SASL exchange already finished');
  }

  private fail(message: string): SaslStep {
    this.state = 'done';
    return { kind: 'failure', message };
  }

  private first(text: string): SaslStep {
    // gs2-header: "n,," (no channel binding; an authzid, if any, must equal the user).
    const m = /^([nyp])(=[^,]*)?,(a=[^,]*)?,(.*)$/s.exec(text);
    if (!m || m[1] === 'p') return this.fail('Invalid SCRAM client-first message');
    const bare = m[4]!;
    const attrs = attributes(bare);
    const user = decodeName(attrs.get('n') ?? '');
    const clientNonce = attrs.get('r');
    if (!user || !clientNonce || attrs.has('m')) return this.fail('Invalid SCRAM client-first message');
    const authzid = m[3] ? decodeName(m[3].slice(2)) : undefined;
    if (authzid !== undefined && authzid !== '' && authzid !== user)
      return this.fail('Authentication failed: authorization id must match the user');
    this.user = user;
    this.clientFirstBare = bare;
    this.credential = this.lookup(user, this.mechanism);
    const salt = this.credential?.salt ?? createHash('sha256').update(`fjord-unknown-user:${user}`).digest();
    const iterations = this.credential?.iterations ?? 4096;
    this.nonce = clientNonce + this.serverNonce();
    this.serverFirst = `r=${this.nonce},s=${salt.toString('base64')},i=${iterations}`;
    this.state = 'final';
    return { kind: 'challenge', token: Buffer.from(this.serverFirst, 'utf8') };
  }

  private final(text: string): SaslStep {
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) return this.fail('Invalid SCRAM client-final message');
    const withoutProof = text.slice(0, proofAt);
    const attrs = attributes(withoutProof);
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
    // Kafka's ScramSaslServer only checks that the echoed nonce ends with the server's; some
    // clients (librdkafka 2.0) prefix their own nonce once more, and Kafka accepts that.
    if (!(attrs.get('r') ?? '').endsWith(this.nonce)) return this.fail('Invalid SCRAM nonce');
    if (!['biws', 'eSws'].includes(attrs.get('c') ?? '')) return this.fail('Invalid SCRAM channel binding');
    const cred = this.credential;
    this.state = 'done';
    if (!cred)
      return {
        kind: 'failure',
        message:
          'Authentication failed during authentication due to invalid credentials with SASL mechanism ' +
          this.mechanism,
      };
    const hash = SCRAM_HASH[this.mechanism];
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const signature = hmac(hash, cred.storedKey, authMessage);
    if (proof.length !== signature.length)
      return {
        kind: 'failure',
        message: `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`,
      };
    const clientKey = xor(proof, signature);
    const computed = createHash(hash).update(clientKey).digest();
    if (!timingSafeEqual(computed, cred.storedKey))
      return {
        kind: 'failure',
        message: `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`,
      };
    const serverSignature = hmac(hash, cred.serverKey, authMessage).toString('base64');
    return {
      kind: 'success',
      token: Buffer.from(`v=${serverSignature}`, 'utf8'),
      principal: `User:${this.user}`,
    };
  }
}
