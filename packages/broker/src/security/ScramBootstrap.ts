import { type MetadataPublisher, SCRAM_MECHANISM_CODE } from '@fjord/metadata';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import type { Logger } from 'pino';
import type { ControllerChannel } from '../quorum/ControllerChannel.js';
import type { BootstrapScramCredential } from './SaslConfig.js';

/**
 * `--add-scram` at startup (kafka-storage's bootstrap credentials): each credential the metadata
 * log does not hold yet is sent to the controller as an AlterUserScramCredentials upsertion, so
 * the same path as a client's writes it, in standalone and clustered mode alike. A credential
 * already in the log (perhaps changed through the Kafka API since) is kept.
 */
export async function bootstrapScramCredentials(
  credentials: readonly BootstrapScramCredential[],
  metadata: MetadataPublisher,
  channel: Pick<ControllerChannel, 'send'>,
  log: Logger,
): Promise<void> {
  await metadata.catchUp();
  const missing = credentials.filter((c) => !metadata.image.scram.get(c.name, c.mechanism));
  if (missing.length === 0) return;
  // One user per request: Kafka refuses a user that appears twice in one request.
  for (const c of missing) {
    const r = await channel.send(ApiKey.AlterUserScramCredentials, 0, {
      deletions: [],
      upsertions: [
        {
          name: c.name,
          mechanism: SCRAM_MECHANISM_CODE[c.mechanism],
          iterations: c.iterations,
          salt: c.salt,
          saltedPassword: c.saltedPassword,
        },
      ],
    });
    const failed = r.results.find((x) => x.errorCode !== ErrorCode.NONE);
    if (failed)
      log.error(
        { user: c.name, mechanism: c.mechanism, errorCode: failed.errorCode, message: failed.errorMessage },
        '--add-scram credential not stored',
      );
    else
      log.info({ user: c.name, mechanism: c.mechanism }, '--add-scram credential stored in the metadata log');
  }
  await metadata.catchUp();
}
