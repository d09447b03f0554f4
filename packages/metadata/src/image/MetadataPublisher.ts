import type { MetadataStore } from '../store/MetadataStore.js';
import { imageFromSnapshot, replay } from './MetadataDelta.js';
import { MetadataImage } from './MetadataImage.js';

export type ImageListener = (next: MetadataImage, previous: MetadataImage) => void;

/**
 * Holds the broker's current metadata image, catches up from the store, and tells listeners
 * (log manager, replica manager, caches) about each new image.
 */
export class MetadataPublisher {
  private current: MetadataImage = MetadataImage.EMPTY;
  private readonly listeners: ImageListener[] = [];
  private catchingUp?: Promise<void>;

  constructor(private readonly store: MetadataStore) {}

  get image(): MetadataImage {
    return this.current;
  }

  onChange(listener: ImageListener): void {
    this.listeners.push(listener);
  }

  /** Replays every record appended since the current image; concurrent calls share one pass. */
  catchUp(): Promise<void> {
    this.catchingUp ??= this.doCatchUp().finally(() => {
      this.catchingUp = undefined;
    });
    return this.catchingUp;
  }

  /**
   * Replays what was appended since the current image. Where the log no longer has what follows
   * it (trimmed below a snapshot: a new broker, or one far behind), the latest snapshot is loaded
   * first and the log replayed from there.
   */
  private async doCatchUp(): Promise<void> {
    for (;;) {
      const entries = await this.store.readAfter(this.current.offset);
      const gap = entries.length > 0 && entries[0]!.offset !== this.current.offset + 1;
      if (gap || (entries.length === 0 && this.current.offset < 0)) {
        const snapshot = await this.store.latestSnapshot?.();
        if (snapshot && snapshot.offset > this.current.offset) {
          this.publish(imageFromSnapshot(snapshot));
          continue;
        }
        if (gap)
          throw new Error(
            `metadata log has no entries ${this.current.offset + 1}..${entries[0]!.offset - 1} and no snapshot covers them`,
          );
      }
      if (entries.length === 0) return;
      this.publish(replay(this.current, entries));
    }
  }

  private publish(next: MetadataImage): void {
    const previous = this.current;
    this.current = next;
    for (const l of this.listeners) l(this.current, previous);
  }
}
