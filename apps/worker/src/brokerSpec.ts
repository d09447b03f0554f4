import { type AccessRoute, listenerOfRoute, MAX_REPLICATION_FACTOR, usesTls } from '@fjord/contracts';
import {
  ADMIN_USER,
  type AdminCredential,
  BROKER_USER,
  type BrokerSpec,
  type ListenerProtocols,
} from '@fjord/fleet';
import { liveSpecConfigs } from './flows/liveSpec.js';

/** queued.max.request.bytes of a managed broker: 256 MiB, as `npm start`'s standalone broker. */
const MANAGED_REQUEST_POOL_BYTES = 256 * 1024 * 1024;

export interface InstanceFacts {
  readonly id: string;
  readonly clusterId: string | null;
  readonly brokerCount: number;
  readonly defaultReplicationFactor: number;
  readonly kafkaVersion: string;
  /** The spec's bandwidth, MB/s, for the whole instance (each broker enforces its share). */
  readonly bandwidthMBps: number;
  /** The spec's partition limit for the whole instance. */
  readonly partitionLimit: number;
  /** The spec's disk per broker, GiB. */
  readonly diskGiB: number;
  readonly accessRoutes: readonly AccessRoute[];
}

export interface ClusterSettings {
  /** When set, brokers run clustered with their metadata in this PostgreSQL database. */
  readonly metadataDatabaseUrl?: string;
}

export const brokerKey = (instanceId: string, brokerId: number) => `${instanceId}-b${brokerId}`;

/** A TLS listener's key and certificate chain (PEM), and the serial that names its file. */
export interface ListenerCertificate {
  readonly serial: string;
  readonly chainPem: string;
  readonly keyPem: string;
}

/** Where a listener's keystore lives, relative to the broker's directory (its working directory). */
export const keystoreFileOf = (listener: string, serial: string) =>
  `tls/${listener.toLowerCase()}-${serial}.pem`;

/** The CA bundle a mutual-TLS listener verifies clients against. */
const clientsCaFileOf = (listener: string) => `tls/${listener.toLowerCase()}-clients-ca.pem`;

/** Kafka's per-listener key prefix. */
export const listenerKey = (listener: string, key: string) =>
  `listener.name.${listener.toLowerCase()}.${key}`;

/** Route settings a running broker takes without a restart (Kafka's dynamic listener configs). */
const DYNAMIC_ROUTE_KEYS = [
  'fjord.allowed.cidrs',
  'ssl.keystore.location',
  'ssl.truststore.location',
] as const;
const ROUTE_LISTENERS = ['INTERNAL', 'PUBLIC'] as const;

/**
 * The dynamic route configs of a spec, as per-broker dynamic configs should hold them: the ones the
 * spec sets, and the ones it no longer has removed (a per-broker dynamic value would otherwise
 * override server.properties after the next restart).
 */
export function dynamicRouteConfigs(spec: BrokerSpec): { set: Record<string, string>; remove: string[] } {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const listener of ROUTE_LISTENERS)
    for (const key of DYNAMIC_ROUTE_KEYS) {
      const name = listenerKey(listener, key);
      const value = spec.properties[name];
      if (value === undefined) remove.push(name);
      else set[name] = value;
    }
  return { set, remove };
}

/** The broker configs that carry a route's allowlist and TLS material (also applied at run time). */
function routeConfigs(
  route: AccessRoute,
  certificate: ListenerCertificate | undefined,
): Record<string, string> {
  const listener = listenerOfRoute(route.type);
  const out: Record<string, string> = {
    [listenerKey(listener, 'fjord.allowed.cidrs')]: route.allowedCidrs.join(','),
  };
  if (usesTls(route)) {
    if (!certificate) throw new Error(`the ${route.type} route uses TLS: its brokers need a certificate`);
    out[listenerKey(listener, 'ssl.keystore.type')] = 'PEM';
    out[listenerKey(listener, 'ssl.keystore.location')] = keystoreFileOf(listener, certificate.serial);
  }
  if (route.type === 'public' && route.securityProtocol === 'SSL') {
    out[listenerKey(listener, 'ssl.client.auth')] = 'required';
    out[listenerKey(listener, 'ssl.truststore.type')] = 'PEM';
    out[listenerKey(listener, 'ssl.truststore.location')] = clientsCaFileOf(listener);
    // A client is named by its certificate's CN (User:<CN>), so ACLs take plain user names.
    out[listenerKey(listener, 'ssl.principal.mapping.rules')] = 'RULE:^CN=([a-zA-Z0-9._-]+).*$/$1/,DEFAULT';
  }
  return out;
}

/**
 * The broker process for one placement, in Kafka's own property names. Listeners: REPLICATION
 * (inter-broker), CONTROL (the control plane's admin client, SCRAM, a super user), and one per
 * access route the instance has.
 */
export function brokerSpecOf(
  ins: InstanceFacts,
  brokerId: number,
  zone: string,
  credentials: { readonly adminPassword: string; readonly broker: AdminCredential },
  cluster: ClusterSettings = {},
  certificates: Readonly<Record<string, ListenerCertificate>> = {},
): BrokerSpec {
  // Both private listeners authenticate: the control plane as the admin user, brokers as the broker
  // user; neither network is trusted to vouch for whoever connects (ADR 0012).
  const listeners: Record<string, ListenerProtocols[string]> = {
    REPLICATION: 'SASL_PLAINTEXT',
    CONTROL: 'SASL_PLAINTEXT',
  };
  const routeProperties: Record<string, string> = {};
  const files: Record<string, string> = {};
  for (const r of ins.accessRoutes) {
    const listener = listenerOfRoute(r.type);
    listeners[listener] = r.securityProtocol;
    const certificate = certificates[listener];
    Object.assign(routeProperties, routeConfigs(r, certificate));
    if (usesTls(r) && certificate)
      files[keystoreFileOf(listener, certificate.serial)] =
        `${certificate.keyPem.trim()}\n${certificate.chainPem}`;
    if (r.type === 'public' && r.clientCaBundle !== undefined)
      files[clientsCaFileOf(listener)] = r.clientCaBundle;
  }
  const clustered = cluster.metadataDatabaseUrl !== undefined;
  // Standalone brokers each hold the whole instance, so they cannot replicate.
  const replication = clustered ? Math.min(ins.defaultReplicationFactor, ins.brokerCount) : 1;
  const internalReplication = clustered ? Math.min(3, ins.brokerCount) : 1;
  const properties: Record<string, string> = {
    'node.id': String(brokerId),
    'broker.rack': zone,
    'inter.broker.listener.name': 'REPLICATION',
    'default.replication.factor': String(replication),
    'min.insync.replicas': String(Math.max(1, replication - 1)),
    'offsets.topic.replication.factor': String(internalReplication),
    // The transaction coordinator's topic, replicated like the offsets topic (Kafka's min ISR 2).
    'transaction.state.log.replication.factor': String(internalReplication),
    'transaction.state.log.min.isr': String(Math.min(2, internalReplication)),
    'num.partitions': '3',
    // A managed broker's request memory is bounded (docs/adr/0020); Kafka's default is unbounded.
    'queued.max.request.bytes': String(MANAGED_REQUEST_POOL_BYTES),
    'auto.create.topics.enable': 'false',
    'group.initial.rebalance.delay.ms': '0',
    'fjord.kafka.version': ins.kafkaVersion,
    // The product's replication-factor cap, owned by contracts.
    'fjord.max.replication.factor': String(MAX_REPLICATION_FACTOR),
    // The spec (bandwidth, partition limit, disk), as resizes later set it at run time.
    ...liveSpecConfigs(ins),
    // ACLs apply on every listener. ANONYMOUS (PLAINTEXT VPC clients) is no super user: it holds
    // ordinary ACLs while such a route exists (VPC_PLAINTEXT_GRANTS).
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': `User:${ADMIN_USER};User:${BROKER_USER}`,
    'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    [listenerKey('REPLICATION', 'scram-sha-512.sasl.jaas.config')]:
      `org.apache.kafka.common.security.scram.ScramLoginModule required username="${credentials.broker.username}" password="${credentials.broker.password}";`,
    ...routeProperties,
  };
  if (clustered) {
    properties['cluster.id'] = ins.clusterId ?? ins.id;
    properties['fjord.metadata.database.url'] = cluster.metadataDatabaseUrl!;
  }
  return {
    key: brokerKey(ins.id, brokerId),
    instanceId: ins.id,
    brokerId,
    listeners,
    properties,
    scramUsers: [
      `SCRAM-SHA-512=[name=${ADMIN_USER},password=${credentials.adminPassword}]`,
      `SCRAM-SHA-256=[name=${ADMIN_USER},password=${credentials.adminPassword}]`,
      `SCRAM-SHA-512=[name=${credentials.broker.username},password=${credentials.broker.password}]`,
    ],
    files,
  };
}
