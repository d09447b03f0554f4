import { describeLogDirsV4 } from '@platformatic/kafka';
import { type BrokerTarget, withBrokerConnection } from './brokerConnection.js';
import { AdminError } from './InstanceAdmin.js';

/**
 * Bytes of every replica one broker holds, from DescribeLogDirs (which a broker answers for its
 * own log dirs only, so a cluster's total takes one request per broker).
 */
export function replicaBytesOn(target: BrokerTarget): Promise<number> {
  return withBrokerConnection(
    target,
    { clientId: 'fjord-control-plane', purpose: 'DescribeLogDirs' },
    async (c) => {
      // A null topic list asks for every partition (the library's types only allow a list).
      const r = await describeLogDirsV4.api.async(c, null as unknown as []);
      if (r.errorCode !== 0) throw new AdminError(`DescribeLogDirs: error ${r.errorCode}`);
      let bytes = 0n;
      for (const dir of r.results)
        for (const t of dir.topics) for (const p of t.partitions) bytes += p.partitionSize;
      return Number(bytes);
    },
  );
}
