import type { MetadataImage } from '../image/MetadataImage.js';
import type { MetadataPublisher } from '../image/MetadataPublisher.js';
import type { MetadataRecord } from '../records.js';
import type { MetadataStore } from '../store/MetadataStore.js';

/** What a planner returns: records to append when it succeeded. */
export type Planned =
  | { readonly ok: true; readonly records: readonly MetadataRecord[] }
  | { readonly ok: false };

/**
 * Serialises metadata changes: each operation plans against the latest image, its records
 * are appended to the store as one batch, and the publisher has applied them before the
 * operation resolves (so a create call's topic is visible the moment it returns).
 */
export class MetadataAppendQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: MetadataStore,
    private readonly publisher: MetadataPublisher,
  ) {}

  submit<R extends Planned>(plan: (image: MetadataImage) => R): Promise<R> {
    const run = async (): Promise<R> => {
      await this.publisher.catchUp();
      const result = plan(this.publisher.image);
      if (result.ok && result.records.length > 0) {
        await this.store.append(result.records);
        await this.publisher.catchUp();
      }
      return result;
    };
    const next = this.tail.then(run, run);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
