import type { MirrorConfig } from '@fjord/contracts';
import {
  type Admin,
  type ConfigDescription,
  ConfigResourceTypes,
  ConfigSources,
  IncrementalAlterConfigOperationTypes,
} from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { KafkaSource } from '../KafkaSource.js';
import { selectNames } from './nameSelection.js';
import { copiedConfig, overridesToCopy, planConfigSync, type TopicOverrides } from './topicConfigSync.js';

const overridesOf = (configs: ConfigDescription['configs']): Map<string, string> =>
  new Map(
    configs
      .filter((c) => c.configSource === ConfigSources.TOPIC_CONFIG && !c.readOnly && c.value !== null)
      .map((c) => [c.name, c.value as string]),
  );

/**
 * The mirror's topics on the target (task 0 keeps them; docs/adr/0022): selected source topics are
 * created with the source's partition count and copied configs, grow when the source grows, and,
 * with `syncTopicConfigs`, their configs follow changes on the source (IncrementalAlterConfigs).
 */
export class TargetTopicSync {
  private readonly copied: (name: string) => boolean;
  /** Each topic's source overrides at the last config sync (none until the first one succeeded). */
  private readonly lastSeen = new Map<string, TopicOverrides>();

  constructor(
    private readonly config: MirrorConfig,
    private readonly sourceAdmin: Admin,
    private readonly targetAdmin: Admin,
    private readonly source: KafkaSource,
    private readonly log: Logger,
  ) {
    this.copied = copiedConfig(config.topicConfigsExclude);
  }

  /** The selected source topics and their partition counts (a topic being created may have none yet). */
  async selected(): Promise<Map<string, number>> {
    const names = selectNames(
      await this.sourceAdmin.listTopics(),
      this.config.topicsInclude,
      this.config.topicsExclude,
    );
    return names.length ? await this.source.partitions(names) : new Map<string, number>();
  }

  /**
   * Makes the target's topics match `counts` (from `selected`): missing ones created, fewer
   * partitions added, then configs synced. Creating and growing fail the call (the task retries);
   * a failed config sync is logged and tried again next time, as the copy does not depend on it.
   */
  async apply(counts: ReadonlyMap<string, number>): Promise<void> {
    const names = [...counts].filter(([, n]) => n > 0).map(([name]) => name);
    if (names.length === 0) return;
    const target = await this.targetAdmin.metadata({ topics: [], forceUpdate: true });
    const existing = new Set(await this.targetAdmin.listTopics());
    const created = new Set<string>();
    for (const name of names) {
      const partitions = counts.get(name) ?? 0;
      if (!existing.has(name)) {
        const source = (await this.sourceOverrides([name])).get(name) ?? new Map<string, string>();
        const configs = [...overridesToCopy(source, this.copied)].map(([n, value]) => ({ name: n, value }));
        await this.targetAdmin.createTopics({
          topics: [name],
          partitions,
          replicas: this.config.replicationFactor ?? -1,
          configs,
        });
        this.lastSeen.set(name, source);
        created.add(name);
        this.log.info({ topic: name, partitions, configs: configs.length }, 'mirror created topic');
      } else {
        const have = target.topics.get(name)?.partitionsCount ?? partitions;
        if (have < partitions)
          await this.targetAdmin.createPartitions({ topics: [{ name, count: partitions, assignments: [] }] });
      }
    }
    if (!this.config.syncTopicConfigs) return;
    try {
      await this.syncConfigs(names.filter((n) => !created.has(n)));
    } catch (err) {
      this.log.warn({ err }, 'mirror topic config sync failed; trying again at the next interval');
    }
  }

  private async syncConfigs(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const [source, target] = await Promise.all([
      this.sourceOverrides(names),
      this.describeOverrides(this.targetAdmin, names),
    ]);
    for (const name of names) {
      const now = source.get(name);
      if (now === undefined) continue; // gone from the source meanwhile
      const plan = planConfigSync(now, target.get(name) ?? new Map(), this.copied, this.lastSeen.get(name));
      if (plan.set.length + plan.delete.length > 0) {
        await this.targetAdmin.incrementalAlterConfigs({
          resources: [
            {
              resourceType: ConfigResourceTypes.TOPIC,
              resourceName: name,
              configs: [
                ...plan.set.map((c) => ({
                  name: c.name,
                  value: c.value,
                  configOperation: IncrementalAlterConfigOperationTypes.SET,
                })),
                ...plan.delete.map((n) => ({
                  name: n,
                  configOperation: IncrementalAlterConfigOperationTypes.DELETE,
                })),
              ],
            },
          ],
        });
        this.log.info(
          { topic: name, set: plan.set.map((c) => c.name), deleted: plan.delete },
          'mirror synced topic configs',
        );
      }
      this.lastSeen.set(name, now);
    }
  }

  private sourceOverrides(names: readonly string[]): Promise<Map<string, Map<string, string>>> {
    return this.describeOverrides(this.sourceAdmin, names);
  }

  private async describeOverrides(
    admin: Admin,
    names: readonly string[],
  ): Promise<Map<string, Map<string, string>>> {
    const described = await admin.describeConfigs({
      resources: names.map((resourceName) => ({
        resourceType: ConfigResourceTypes.TOPIC,
        resourceName,
        configurationKeys: [],
      })),
    });
    return new Map(described.map((d) => [d.resourceName, overridesOf(d.configs)]));
  }
}
