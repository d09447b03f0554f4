import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error s3rver ships no types; only `run` and `close` are used here
import S3rver from 's3rver';

/** s3rver's fixed credentials (it checks signatures against them). */
export const S3RVER_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

export interface TestS3 {
  readonly endpoint: string;
  readonly client: S3Client;
  /** Every object under a bucket: key, bytes, and text (gunzipped when the key ends in .gz). */
  objects(bucket: string): Promise<{ key: string; bytes: Buffer; text: string }[]>;
  close(): Promise<void>;
}

/** A real S3-compatible server (s3rver, the S3 REST API over local files) on a free port. */
export async function startTestS3(buckets: string[]): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'fjord-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    // A copy: the SDK marks the credentials object it is given (`$source`).
    credentials: { ...S3RVER_CREDENTIALS },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    client,
    async objects(bucket) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }),
        );
        for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      const out: { key: string; bytes: Buffer; text: string }[] = [];
      for (const key of keys.sort()) {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const bytes = Buffer.from(await r.Body!.transformToByteArray());
        out.push({ key, bytes, text: (key.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8') });
      }
      return out;
    },
    async close() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
