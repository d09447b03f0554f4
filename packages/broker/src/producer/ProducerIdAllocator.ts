/** A block of producer ids the controller reserved for this broker. */
export interface ProducerIdBlock {
  readonly start: number;
  readonly length: number;
}

/**
 * Hands out producer ids from blocks the controller reserves in the metadata log (KIP-730's
 * AllocateProducerIds), so ids stay unique across restarts and brokers.
 */
export class ProducerIdAllocator {
  private next = 0;
  private end = 0;
  private pending?: Promise<void>;

  constructor(private readonly reserve: () => Promise<ProducerIdBlock>) {}

  async allocate(): Promise<bigint> {
    while (this.next >= this.end) {
      this.pending ??= this.reserve()
        .then((block) => {
          this.next = block.start;
          this.end = block.start + block.length;
        })
        .finally(() => {
          this.pending = undefined;
        });
      await this.pending;
    }
    return BigInt(this.next++);
  }
}
