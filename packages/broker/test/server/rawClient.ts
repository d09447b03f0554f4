import { connect, type Socket } from 'node:net';
import {
  ApiKey,
  type ApiMessageTypes,
  decodeResponseFrame,
  encodeRequestFrame,
  ZERO_UUID,
} from '@fjord/protocol';

/** A minimal Kafka client over one socket, for tests that need exact control of requests. */
export class RawClient {
  private buf = Buffer.alloc(0);
  private readonly waiting = new Map<
    number,
    { resolve: (frame: Buffer) => void; reject: (e: Error) => void }
  >();
  private correlation = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
        const frame = this.buf.subarray(4, 4 + this.buf.readInt32BE(0));
        this.buf = this.buf.subarray(4 + frame.length);
        const id = frame.readInt32BE(0);
        this.waiting.get(id)?.resolve(frame);
        this.waiting.delete(id);
      }
    });
    // A request the broker closed the connection on fails at once instead of waiting forever.
    socket.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new Error('connection closed by the broker'));
      this.waiting.clear();
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
    return new Promise((resolve, reject) => {
      this.waiting.set(id, {
        resolve: (frame) => resolve(decodeResponseFrame(apiKey, version, frame).body),
        reject,
      });
      this.socket.write(encodeRequestFrame(apiKey, version, id, 'raw-test', body));
    });
  }

  /** The raw record bytes of one partition from `offset` (Fetch v11, no waiting, no session). */
  async fetchRecords(topic: string, partition: number, offset = 0n): Promise<Buffer> {
    return (await this.fetchPartition(topic, partition, offset)).records ?? Buffer.alloc(0);
  }

  /** One partition's Fetch v11 answer from `offset` (no waiting, no session; 1: read_committed). */
  async fetchPartition(topic: string, partition: number, offset = 0n, isolationLevel = 0) {
    const r = await this.send(ApiKey.Fetch, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic,
          topicId: ZERO_UUID,
          partitions: [
            {
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    return r.responses[0]!.partitions[0]!;
  }

  close(): void {
    this.socket.destroy();
  }
}
