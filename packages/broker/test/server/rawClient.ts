import { connect, type Socket } from 'node:net';
import { type ApiMessageTypes, decodeResponseFrame, encodeRequestFrame } from '@fjord/protocol';

/** A minimal Kafka client over one socket, for tests that need exact control of requests. */
export class RawClient {
  private buf = Buffer.alloc(0);
  private readonly waiting = new Map<number, (frame: Buffer) => void>();
  private correlation = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const frame = this.buf.subarray(4, 4 + this.buf.readInt32BE(0));
        this.buf = this.buf.subarray(4 + frame.length);
        const id = frame.readInt32BE(0);
        this.waiting.get(id)?.(frame);
        this.waiting.delete(id);
      }
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  send<K extends keyof ApiMessageTypes>(
    apiKey: K,
    version: number,
    body: ApiMessageTypes[K]['requestInput'],
  ): Promise<ApiMessageTypes[K]['response']> {
    const id = ++this.correlation;
    return new Promise((resolve) => {
      this.waiting.set(id, (frame) => resolve(decodeResponseFrame(apiKey, version, frame).body));
      this.socket.write(encodeRequestFrame(apiKey, version, id, 'raw-test', body));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
