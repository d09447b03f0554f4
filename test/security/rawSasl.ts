import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { ApiKey, type ApiMessageTypes, decodeResponseFrame, encodeRequestFrame } from '@fjord/protocol';

/**
 * One raw Kafka connection for tests that must control every byte of an exchange (SASL tokens,
 * garbage, replays): requests are encoded with the protocol codecs, responses decoded, and the
 * moment the broker closes the connection is observable.
 */
export class RawConnection {
  private buf = Buffer.alloc(0);
  private readonly waiting = new Map<number, (frame: Buffer) => void>();
  private rawWaiter?: (frame: Buffer) => void;
  private correlation = 0;
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const frame = this.buf.subarray(4, 4 + this.buf.readInt32BE(0));
        this.buf = this.buf.subarray(4 + frame.length);
        if (this.rawWaiter) {
          const w = this.rawWaiter;
          this.rawWaiter = undefined;
          w(frame);
          continue;
        }
        const id = frame.readInt32BE(0);
        this.waiting.get(id)?.(frame);
        this.waiting.delete(id);
      }
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  /** Sends a request; resolves with the response, or with 'closed' when the broker hangs up first. */
  send<K extends keyof ApiMessageTypes>(
    apiKey: K,
    version: number,
    body: ApiMessageTypes[K]['requestInput'],
  ): Promise<ApiMessageTypes[K]['response'] | 'closed'> {
    const id = ++this.correlation;
    const answer = new Promise<ApiMessageTypes[K]['response']>((resolve) => {
      this.waiting.set(id, (frame) => resolve(decodeResponseFrame(apiKey, version, frame).body));
    });
    this.socket.write(encodeRequestFrame(apiKey, version, id, 'raw-sasl-test', body));
    return Promise.race([answer, this.closed.then(() => 'closed' as const)]);
  }

  /** Writes bytes as they are (garbage, raw SASL tokens with their size prefix). */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends a size-prefixed raw SASL token (after SaslHandshake v0); resolves with the reply token. */
  rawToken(token: Buffer): Promise<Buffer | 'closed'> {
    const size = Buffer.alloc(4);
    size.writeInt32BE(token.length);
    const reply = new Promise<Buffer>((resolve) => {
      this.rawWaiter = resolve;
    });
    this.socket.write(Buffer.concat([size, token]));
    return Promise.race([reply, this.closed.then(() => 'closed' as const)]);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The client side of SCRAM (RFC 5802), written from the RFC, with every message visible. */
export class ScramClient {
  readonly nonce: string;
  readonly clientFirstBare: string;
  private salted?: Buffer;
  private authMessage?: string;

  constructor(
    private readonly mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
    readonly user: string,
    private readonly password: string,
    nonce = randomBytes(18).toString('base64'),
  ) {
    this.nonce = nonce;
    this.clientFirstBare = `n=${user},r=${nonce}`;
  }

  private get hash() {
    return this.mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
  }

  first(): Buffer {
    return Buffer.from(`n,,${this.clientFirstBare}`);
  }

  /** The client-final message for a server-first message. */
  final(serverFirst: Buffer): Buffer {
    const sf = serverFirst.toString();
    const attrs = Object.fromEntries(sf.split(',').map((p) => [p[0], p.slice(2)]));
    this.salted = pbkdf2Sync(
      this.password,
      Buffer.from(attrs.s!, 'base64'),
      Number(attrs.i),
      this.hash === 'sha256' ? 32 : 64,
      this.hash,
    );
    const clientKey = createHmac(this.hash, this.salted).update('Client Key').digest();
    const stored = createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.r}`;
    this.authMessage = `${this.clientFirstBare},${sf},${withoutProof}`;
    const sig = createHmac(this.hash, stored).update(this.authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]!));
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
  }
}

export const plainToken = (user: string, password: string) => Buffer.from(`\u0000${user}\u0000${password}`);

/** SaslHandshake v1 + SaslAuthenticate with PLAIN; resolves with the SaslAuthenticate response. */
export async function authenticatePlain(c: RawConnection, user: string, password: string, authVersion = 2) {
  const h = await c.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
  if (h === 'closed') return 'closed' as const;
  return c.send(ApiKey.SaslAuthenticate, authVersion, { authBytes: plainToken(user, password) });
}

/** Log lines a broker writes, for tests that check it said why it refused something. */
export function logCapture() {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    stream: { write: (s: string) => lines.push(JSON.parse(s)) },
    /** Lines whose message contains `msg`. */
    find: (msg: string) => lines.filter((l) => String(l.msg).includes(msg)),
  };
}
