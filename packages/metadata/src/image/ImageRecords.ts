import type { MetadataRecord } from '../records.js';
import type { MetadataImage } from './MetadataImage.js';

/**
 * The records that rebuild `image` from nothing (a snapshot's contents, as KRaft snapshots are
 * records too): replaying them onto the empty image gives an image equal to this one.
 */
export function imageToRecords(image: MetadataImage): MetadataRecord[] {
  const records: MetadataRecord[] = [];
  for (const b of image.brokers.values()) {
    records.push({
      type: 'RegisterBroker',
      brokerId: b.brokerId,
      incarnationId: b.incarnationId,
      brokerEpoch: b.brokerEpoch,
      endpoints: b.endpoints,
      rack: b.rack,
      fenced: b.fenced,
      logDirs: b.logDirs,
    });
    if (b.inControlledShutdown)
      records.push({
        type: 'BrokerRegistrationChange',
        brokerId: b.brokerId,
        brokerEpoch: b.brokerEpoch,
        inControlledShutdown: true,
      });
  }
  for (const t of image.topicsById.values()) {
    records.push({ type: 'Topic', name: t.name, topicId: t.topicId });
    for (const p of t.partitions) {
      if (!p) continue;
      records.push({
        type: 'Partition',
        topicId: t.topicId,
        partition: p.partition,
        replicas: p.replicas,
        isr: p.isr,
        leader: p.leader,
        leaderEpoch: p.leaderEpoch,
        partitionEpoch: p.partitionEpoch,
        directories: p.directories,
        addingReplicas: p.addingReplicas,
        removingReplicas: p.removingReplicas,
      });
    }
  }
  for (const [key, values] of image.configs) {
    const at = key.indexOf(':');
    const resourceType = key.slice(0, at) as 'topic' | 'broker';
    const resourceName = key.slice(at + 1);
    for (const [name, value] of values)
      records.push({ type: 'Config', resourceType, resourceName, name, value });
  }
  records.push({ type: 'ProducerIds', brokerId: -1, brokerEpoch: -1, nextProducerId: image.nextProducerId });
  for (const [id, acl] of image.acls.byId) records.push({ type: 'AccessControlEntry', id, ...acl });
  for (const [name, credentials] of image.scram.users())
    for (const c of credentials)
      records.push({
        type: 'UserScramCredential',
        name,
        mechanism: c.mechanism,
        salt: c.salt.toString('base64'),
        storedKey: c.storedKey.toString('base64'),
        serverKey: c.serverKey.toString('base64'),
        iterations: c.iterations,
      });
  for (const q of image.clientQuotas.entities.values())
    for (const [key, value] of q.values)
      records.push({ type: 'ClientQuota', entity: q.entity, key, value, remove: false });
  return records;
}
