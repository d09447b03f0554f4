import { MetadataDelta } from '../image/MetadataDelta.js';
import type { MetadataImage, PartitionState, TopicImage } from '../image/MetadataImage.js';
import type { BrokerEndpoint, MetadataRecord } from '../records.js';
import { buildPartitionChange, type Election } from './PartitionChangeBuilder.js';

/**
 * Pure planning of broker lifecycle changes, as KRaft's ClusterControlManager and
 * ReplicationControlManager do them: registration, fencing (a missed session), unfencing (a
 * caught-up broker), controlled shutdown, and log dirs going offline. Each plan is the
 * registration record followed by the partition changes it causes, computed against the image
 * as it will be once the registration record is applied.
 */

/** Whether a topic allows electing a leader from outside the ISR. */
export type UncleanPolicy = (topic: string) => boolean;

export interface BrokerRegistrationRequest {
  readonly brokerId: number;
  readonly clusterId: string;
  readonly incarnationId: string;
  readonly endpoints: readonly BrokerEndpoint[];
  readonly rack: string | null;
  readonly logDirs: readonly string[];
}

export type RegistrationPlan =
  | { readonly ok: true; readonly records: MetadataRecord[]; readonly brokerEpoch: number }
  | {
      readonly ok: false;
      readonly error: 'INCONSISTENT_CLUSTER_ID' | 'DUPLICATE_BROKER_REGISTRATION';
      readonly message: string;
    };

/**
 * A broker (re-)registers fenced with a new epoch; it is unfenced once it has caught up with
 * the metadata log. The epoch is the offset the record will have: unique over the cluster's
 * life, and larger than any epoch the broker had before. A live registration with another
 * incarnation id is refused (two processes claiming one node id) unless it was fenced.
 */
export function planRegisterBroker(
  image: MetadataImage,
  clusterId: string,
  req: BrokerRegistrationRequest,
  sessionAlive: (brokerId: number) => boolean,
): RegistrationPlan {
  if (req.clusterId !== clusterId)
    return {
      ok: false,
      error: 'INCONSISTENT_CLUSTER_ID',
      message: `Expected cluster ID ${clusterId}, but got cluster ID ${req.clusterId}`,
    };
  const existing = image.brokers.get(req.brokerId);
  if (
    existing &&
    existing.incarnationId !== req.incarnationId &&
    sessionAlive(req.brokerId) &&
    !existing.fenced
  )
    return {
      ok: false,
      error: 'DUPLICATE_BROKER_REGISTRATION',
      message: `Another broker is registered with that broker id: ${req.brokerId}`,
    };
  const brokerEpoch = image.offset + 1;
  const records: MetadataRecord[] = [
    {
      type: 'RegisterBroker',
      brokerId: req.brokerId,
      incarnationId: req.incarnationId,
      brokerEpoch,
      endpoints: req.endpoints,
      rack: req.rack,
      fenced: true,
      logDirs: req.logDirs,
    },
  ];
  // A broker that restarted without its session expiring first still led partitions: they need
  // a new leader, exactly as if it had been fenced.
  const after = applied(image, records);
  records.push(...leaveIsrAndLeadership(after, req.brokerId, () => false));
  return { ok: true, records, brokerEpoch };
}

/** Fences a broker whose session expired: it gives up leadership and its ISR seats. */
export function planFenceBroker(
  image: MetadataImage,
  brokerId: number,
  unclean: UncleanPolicy,
): MetadataRecord[] {
  const b = image.brokers.get(brokerId);
  if (!b || b.fenced) return [];
  const records: MetadataRecord[] = [
    { type: 'BrokerRegistrationChange', brokerId, brokerEpoch: b.brokerEpoch, fenced: true },
  ];
  records.push(...leaveIsrAndLeadership(applied(image, records), brokerId, unclean));
  return records;
}

/**
 * Removes a broker's registration (UnregisterBroker, as Kafka's QuorumController): it is fenced
 * first if it is not already, giving up leadership and its ISR seats, then forgotten. A broker
 * still running registers again with its next heartbeat, as on Kafka.
 */
export function planUnregisterBroker(
  image: MetadataImage,
  brokerId: number,
  unclean: UncleanPolicy,
): { ok: true; records: MetadataRecord[] } | { ok: false; records: []; error: 'BROKER_ID_NOT_REGISTERED' } {
  const b = image.brokers.get(brokerId);
  if (!b) return { ok: false, records: [], error: 'BROKER_ID_NOT_REGISTERED' };
  return {
    ok: true,
    records: [
      ...planFenceBroker(image, brokerId, unclean),
      { type: 'UnregisterBroker', brokerId, brokerEpoch: b.brokerEpoch },
    ],
  };
}

/** Unfences a caught-up broker and elects it where partitions have no leader and it may lead. */
export function planUnfenceBroker(
  image: MetadataImage,
  brokerId: number,
  brokerEpoch: number,
  unclean: UncleanPolicy,
): MetadataRecord[] {
  const b = image.brokers.get(brokerId);
  if (!b || b.brokerEpoch !== brokerEpoch || !b.fenced) return [];
  const records: MetadataRecord[] = [
    { type: 'BrokerRegistrationChange', brokerId, brokerEpoch, fenced: false },
  ];
  records.push(...electLeaderless(applied(image, records), unclean));
  return records;
}

/** Starts a controlled shutdown: leadership moves to other ISR members, the broker leaves the ISRs. */
export function planControlledShutdown(
  image: MetadataImage,
  brokerId: number,
  brokerEpoch: number,
): MetadataRecord[] {
  const b = image.brokers.get(brokerId);
  if (!b || b.brokerEpoch !== brokerEpoch || b.inControlledShutdown) return [];
  const records: MetadataRecord[] = [
    { type: 'BrokerRegistrationChange', brokerId, brokerEpoch, inControlledShutdown: true },
  ];
  records.push(...leaveIsrAndLeadership(applied(image, records), brokerId, () => false));
  return records;
}

/**
 * The broker reports log dirs offline: its replicas in them leave leadership and ISRs (the
 * broker's other replicas keep serving), as KIP-858 does for JBOD.
 */
export function planLogDirsOffline(
  image: MetadataImage,
  brokerId: number,
  brokerEpoch: number,
  offlineDirs: readonly string[],
  unclean: UncleanPolicy,
): MetadataRecord[] {
  const b = image.brokers.get(brokerId);
  if (!b || b.brokerEpoch !== brokerEpoch) return [];
  const logDirs = b.logDirs.filter((d) => !offlineDirs.includes(d));
  if (logDirs.length === b.logDirs.length) return [];
  const records: MetadataRecord[] = [{ type: 'BrokerRegistrationChange', brokerId, brokerEpoch, logDirs }];
  const after = applied(image, records);
  records.push(
    ...leaveIsrAndLeadership(after, brokerId, unclean, (state) => !after.isReplicaEligible(state, brokerId)),
  );
  return records;
}

/**
 * Elects leaders for every partition without one where an ISR member (or, where the topic
 * allows it, any replica) is now eligible.
 */
export function electLeaderless(image: MetadataImage, unclean: UncleanPolicy): MetadataRecord[] {
  const records: MetadataRecord[] = [];
  forEachPartition(image, (topic, state) => {
    if (state.leader >= 0) return;
    const election: Election = unclean(topic.name) ? 'unclean' : 'keep';
    const change = buildPartitionChange(image, topic.topicId, state, { election });
    if (change) records.push(change);
  });
  return records;
}

/**
 * Removes `brokerId` from the ISR of its partitions (never emptying an ISR: the last member
 * stays, so it alone can lead again) and re-elects where it led. `affects` narrows which of
 * its replicas are concerned (all by default). `brokerId` must already be ineligible in `image`.
 */
function leaveIsrAndLeadership(
  image: MetadataImage,
  brokerId: number,
  unclean: UncleanPolicy,
  affects: (state: PartitionState) => boolean = () => true,
): MetadataRecord[] {
  const records: MetadataRecord[] = [];
  forEachPartition(image, (topic, state) => {
    if (!state.replicas.includes(brokerId) || !affects(state)) return;
    const inIsr = state.isr.includes(brokerId);
    if (!inIsr && state.leader !== brokerId) return;
    const remaining = state.isr.filter((r) => r !== brokerId);
    const change = buildPartitionChange(image, topic.topicId, state, {
      isr: remaining.length > 0 ? remaining : state.isr,
      election: unclean(topic.name) ? 'unclean' : 'keep',
    });
    if (change) records.push(change);
  });
  return records;
}

function forEachPartition(
  image: MetadataImage,
  fn: (topic: TopicImage, state: PartitionState) => void,
): void {
  for (const topic of image.topicsById.values())
    for (const state of topic.partitions) if (state) fn(topic, state);
}

/** The image with `records` applied (for planning against a state that is not yet committed). */
export function applied(image: MetadataImage, records: readonly MetadataRecord[]): MetadataImage {
  const delta = new MetadataDelta(image);
  for (const r of records) delta.apply(r);
  return delta.image();
}
