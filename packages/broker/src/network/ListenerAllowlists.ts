import { allowedCidrsKey, CidrAllowlist, ConfigError, type MetadataImage } from '@fjord/metadata';

const EVERYONE = CidrAllowlist.parse('') as CidrAllowlist;

/**
 * Which client addresses each listener accepts (`listener.name.<listener>.fjord.allowed.cidrs`):
 * the dynamic per-broker value, else the dynamic cluster default, else server.properties, else
 * everyone — the precedence of Kafka's dynamic broker configs. Static values are checked at
 * construction (ConfigError naming the key); dynamic ones were checked by the controller.
 */
export class ListenerAllowlists {
  private readonly lists = new Map<string, { text: string; list: CidrAllowlist }>();

  constructor(
    private readonly brokerId: number,
    private readonly listeners: readonly string[],
    private readonly staticValues: ReadonlyMap<string, string>,
  ) {
    for (const l of listeners) {
      const text = staticValues.get(allowedCidrsKey(l)) ?? '';
      const list = CidrAllowlist.parse(text);
      if (typeof list === 'string') throw new ConfigError(allowedCidrsKey(l), list);
      this.lists.set(l, { text, list });
    }
  }

  allows(listener: string, address: string): boolean {
    return (this.lists.get(listener)?.list ?? EVERYONE).allows(address);
  }

  /** Follows the image's dynamic values; returns the listeners whose list changed. */
  update(image: MetadataImage): string[] {
    const perBroker = image.configsOf('broker', String(this.brokerId));
    const clusterDefault = image.configsOf('broker', '');
    const changed: string[] = [];
    for (const l of this.listeners) {
      const key = allowedCidrsKey(l);
      const text = perBroker.get(key) ?? clusterDefault.get(key) ?? this.staticValues.get(key) ?? '';
      if (this.lists.get(l)?.text === text) continue;
      const list = CidrAllowlist.parse(text);
      // The controller validated it; a value it could not have accepted leaves the old list in force.
      if (typeof list === 'string') continue;
      this.lists.set(l, { text, list });
      changed.push(l);
    }
    return changed;
  }
}
