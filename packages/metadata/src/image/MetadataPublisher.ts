import type { MetadataStore } from '../store/MetadataStore.js';
import { replay } from './MetadataDelta.js';
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

  private async doCatchUp(): Promise<void> {
    for (;;) {
      const entries = await this.store.readAfter(this.current.offset);
      if (entries.length === 0) return;
      const previous = this.current;
      this.current = replay(previous, entries);
      for (const l of this.listeners) l(this.current, previous);
    }
  }
}
