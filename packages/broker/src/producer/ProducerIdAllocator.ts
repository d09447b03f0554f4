import type { QuorumController } from '@fjord/metadata';

const BLOCK_SIZE = 1000;

/**
 * Hands out producer ids from blocks reserved through the metadata log (KIP-730's
 * AllocateProducerIds), so ids stay unique across restarts and brokers.
 */
export class ProducerIdAllocator {
  private next = 0;
  private end = 0;
  private pending?: Promise<void>;

  constructor(
    private readonly controller: QuorumController,
    private readonly brokerId: number,
  ) {}

  async allocate(): Promise<bigint> {
    while (this.next >= this.end) {
      this.pending ??= this.reserveBlock().finally(() => {
        this.pending = undefined;
      });
      await this.pending;
    }
    return BigInt(this.next++);
  }

  private async reserveBlock(): Promise<void> {
    let start = 0;
    await this.controller.submit((image) => {
      start = image.nextProducerId;
      return {
        ok: true,
        records: [
          {
            type: 'ProducerIds',
            brokerId: this.brokerId,
            brokerEpoch: 0,
            nextProducerId: start + BLOCK_SIZE,
          },
        ],
      };
    });
    this.next = start;
    this.end = start + BLOCK_SIZE;
  }
}
