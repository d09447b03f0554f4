import { type MetadataPublisher, SCRAM_MECHANISM_CODE } from '@fjord/metadata';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import type { Logger } from 'pino';
import { type ControllerChannel, ControllerUnavailableError } from '../quorum/ControllerChannel.js';
import type { BootstrapScramCredential } from './SaslConfig.js';

/** Each attempt to reach the controller gets this long before the log is looked at again. */
const ATTEMPT_MS = 5000;
/** After this long without a controller that takes the credential, start-up goes on without it (logged). */
const GIVE_UP_MS = 120_000;

/**
 * `--add-scram` at startup (kafka-storage's bootstrap credentials): each credential the metadata
 * log does not hold yet is sent to the controller as an AlterUserScramCredentials upsertion, so
 * the same path as a client's writes it, in standalone and clustered mode alike. A credential
 * already in the log (perhaps changed through the Kafka API since) is kept.
 *
 * With an authenticated inter-broker listener this broker cannot reach a remote controller
 * before the inter-broker credential is in the log. Brokers read the log from the metadata store
 * directly, not over the network, so the wait ends as soon as any broker stores it: the one that
 * holds the controller lease writes it locally (its channel needs no connection), and the others
 * see it in their image and stop asking. Every broker of an instance gets the same file.
 */
export async function bootstrapScramCredentials(
  credentials: readonly BootstrapScramCredential[],
  metadata: MetadataPublisher,
  channel: Pick<ControllerChannel, 'send'>,
  log: Logger,
): Promise<void> {
  await metadata.catchUp();
  const giveUpAt = Date.now() + GIVE_UP_MS;
  // One user per request: Kafka refuses a user that appears twice in one request.
  for (const c of credentials) {
    for (;;) {
      if (metadata.image.scram.get(c.name, c.mechanism)) break;
      try {
        const r = await channel.send(
          ApiKey.AlterUserScramCredentials,
          0,
          {
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
          },
          ATTEMPT_MS,
        );
        const failed = r.results.find((x) => x.errorCode !== ErrorCode.NONE);
        if (failed)
          log.error(
            {
              user: c.name,
              mechanism: c.mechanism,
              errorCode: failed.errorCode,
              message: failed.errorMessage,
            },
            '--add-scram credential not stored',
          );
        else
          log.info(
            { user: c.name, mechanism: c.mechanism },
            '--add-scram credential stored in the metadata log',
          );
        break;
      } catch (e) {
        if (!(e instanceof ControllerUnavailableError)) throw e;
        if (Date.now() > giveUpAt) {
          log.error(
            { user: c.name, mechanism: c.mechanism, reason: e.message },
            '--add-scram credential not stored: no controller took it',
          );
          break;
        }
        log.info(
          { user: c.name, mechanism: c.mechanism, reason: e.message },
          '--add-scram: controller not reachable yet; waiting for it or for another broker to store the credential',
        );
        await metadata.catchUp();
      }
    }
  }
  await metadata.catchUp();
}
