import { describeConfigsV4, incrementalAlterConfigsV1 } from '@platformatic/kafka';
import { type BrokerTarget, withBrokerConnection } from './brokerConnection.js';
import { AdminError } from './InstanceAdmin.js';

const BROKER_RESOURCE = 4;
const SET = 0;
const DELETE = 1;
type ConfigChanges = Parameters<typeof incrementalAlterConfigsV1.api.async>[1][number]['configs'];
const USE = { clientId: 'fjord-control-plane', purpose: 'broker configs' };

/**
 * A broker's dynamic configs (Kafka's DynamicBrokerConfig): IncrementalAlterConfigs and
 * DescribeConfigs on its own BROKER resource, sent to that broker (which forwards the change to
 * the controller, as Kafka does). kafkajs has no IncrementalAlterConfigs, so this speaks it with
 * @platformatic/kafka's protocol layer.
 */
export class BrokerConfigAdmin {
  constructor(private readonly target: BrokerTarget) {}

  /** Sets `values` on broker `brokerId` (its own resource; other keys are left as they are). */
  set(brokerId: number, values: Readonly<Record<string, string>>): Promise<void> {
    return this.alter(
      brokerId,
      Object.entries(values).map(([name, value]) => ({ name, configOperation: SET, value })),
    );
  }

  /** Removes `names` from broker `brokerId`'s dynamic configs (back to the static or default value). */
  remove(brokerId: number, names: readonly string[]): Promise<void> {
    return this.alter(
      brokerId,
      names.map((name) => ({ name, configOperation: DELETE })),
    );
  }

  private alter(brokerId: number, configs: ConfigChanges): Promise<void> {
    return withBrokerConnection(this.target, USE, async (c) => {
      const r = await incrementalAlterConfigsV1.api.async(
        c,
        [{ resourceType: BROKER_RESOURCE, resourceName: String(brokerId), configs }],
        false,
      );
      const failed = r.responses.find((x) => x.errorCode !== 0);
      if (failed)
        throw new AdminError(
          `IncrementalAlterConfigs broker ${brokerId}: ${failed.errorMessage ?? failed.errorCode}`,
        );
    });
  }

  /** The values broker `brokerId` itself reports for `names`. */
  get(brokerId: number, names: readonly string[]): Promise<Record<string, string | null>> {
    return withBrokerConnection(this.target, USE, async (c) => {
      const r = await describeConfigsV4.api.async(
        c,
        [{ resourceType: BROKER_RESOURCE, resourceName: String(brokerId), configurationKeys: [...names] }],
        false,
        false,
      );
      const result = r.results[0];
      if (result?.errorCode !== 0)
        throw new AdminError(`DescribeConfigs broker ${brokerId}: ${result?.errorMessage ?? 'no result'}`);
      return Object.fromEntries(result.configs.map((e) => [e.name, e.value ?? null]));
    });
  }
}
