import { API_VERSIONS_BY_RELEASE, ApiKey } from '@fjord/protocol';
import { describe, expect, it } from 'vitest';
import { advertisedApis } from '../../src/server/advertisedApis.js';
import { allHandlers } from '../../src/server/handlers/index.js';
import { INTER_BROKER_APIS } from '../../src/server/KafkaApis.js';

const handlers = allHandlers(() => []);
const advertised = (release: string) =>
  advertisedApis(handlers, API_VERSIONS_BY_RELEASE[release]!, INTER_BROKER_APIS);

describe('the ApiVersions answer of a broker emulating a Kafka release', () => {
  it('emulating 2.4 lists only APIs Kafka 2.4 has: no client quotas or SCRAM admin (48-51), so clients infer 2.4', () => {
    const keys = advertised('2.4.1').map((a) => a.apiKey);
    for (const key of [
      ApiKey.DescribeClientQuotas,
      ApiKey.AlterClientQuotas,
      ApiKey.DescribeUserScramCredentials,
      ApiKey.AlterUserScramCredentials,
      ApiKey.DescribeCluster,
      ApiKey.DescribeProducers,
      ApiKey.ListTransactions,
    ])
      expect(keys, `API ${key}`).not.toContain(key);
    // Every API Kafka 2.4 answers that Fjord handles is there, at 2.4's newest version.
    expect(keys).toContain(ApiKey.IncrementalAlterConfigs);
    expect(keys.every((k) => k <= 47)).toBe(true);
    expect(advertised('2.4.1').find((a) => a.apiKey === ApiKey.Produce)).toEqual({
      apiKey: ApiKey.Produce,
      minVersion: 0,
      maxVersion: 8,
    });
  });

  it('emulating 3.8 lists the quota and SCRAM admin APIs, and never the broker-to-broker ones', () => {
    const keys = advertised('3.8.0').map((a) => a.apiKey);
    for (const key of [
      ApiKey.DescribeClientQuotas,
      ApiKey.AlterClientQuotas,
      ApiKey.DescribeUserScramCredentials,
      ApiKey.AlterUserScramCredentials,
    ])
      expect(keys).toContain(key);
    for (const key of INTER_BROKER_APIS) expect(keys).not.toContain(key);
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
  });

  it('leaves out an API whose versions the release and the handler do not share', () => {
    const handler = { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 11 };
    expect(advertisedApis([handler], { [ApiKey.Produce]: { max: 2 } }, new Set())).toEqual([]);
  });
});
