/**
 * `--add-scram` with an authenticated inter-broker listener: a broker that cannot reach the
 * controller yet (its own credential is not in the log, so the controller refuses it) must not
 * fail its start-up; it waits until the controller — or any broker — has stored the credential
 * in the shared metadata log, which it reads from the store directly. Real metadata store and
 * log; the controller channel is the part that refuses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LocalFileMetadataStore,
  MetadataAppendQueue,
  MetadataPublisher,
  planAlterUserScramCredentials,
  SCRAM_MECHANISM_CODE,
} from '@fjord/metadata';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ControllerUnavailableError } from '../../src/quorum/ControllerChannel.js';
import { SaslConfig } from '../../src/security/SaslConfig.js';
import { bootstrapScramCredentials } from '../../src/security/ScramBootstrap.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('--add-scram bootstrap before the inter-broker credential exists', () => {
  it('waits for another broker to store it instead of failing, and keeps what that broker stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-scram-bootstrap-'));
    dirs.push(dir);
    const store = new LocalFileMetadataStore(dir);
    const metadata = new MetadataPublisher(store);
    const controller = new MetadataAppendQueue(store, metadata);
    const [ours] = new SaslConfig(new Map(), ['SCRAM-SHA-512=[name=fjord-broker,password=secret]'])
      .bootstrapScram;
    const [theirs] = new SaslConfig(new Map(), ['SCRAM-SHA-512=[name=fjord-broker,password=secret]'])
      .bootstrapScram;
    let attempts = 0;
    const channel = {
      async send(): Promise<never> {
        attempts++;
        // Meanwhile the controller stores the same user from its own --add-scram-file …
        await controller.submit((image) =>
          planAlterUserScramCredentials(
            image,
            [],
            [
              {
                name: theirs!.name,
                mechanism: SCRAM_MECHANISM_CODE[theirs!.mechanism],
                iterations: theirs!.iterations,
                salt: theirs!.salt,
                saltedPassword: theirs!.saltedPassword,
              },
            ],
          ),
        );
        // … while it refused this broker, whose credential it did not have yet.
        throw new ControllerUnavailableError(
          'controller request AlterUserScramCredentials failed: SASL authentication with SCRAM-SHA-512 as fjord-broker to broker at 127.0.0.1:9093 failed',
        );
      },
    };
    await metadata.catchUp();
    await bootstrapScramCredentials([ours!], metadata, channel as never, pino({ level: 'silent' }));
    expect(attempts).toBe(1);
    expect(metadata.image.scram.get('fjord-broker', 'SCRAM-SHA-512')?.salt).toEqual(theirs!.salt);
    await store.close();
  });
});
