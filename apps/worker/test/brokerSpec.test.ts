import { instanceMetadataPassword } from '@fjord/fleet';
import { describe, expect, it } from 'vitest';
import { brokerSpecOf } from '../src/brokerSpec.js';
import { metadataStoreOf } from '../src/flows/brokers.js';

const ins = {
  id: 'ins-1',
  clusterId: 'ins-1',
  brokerCount: 3,
  defaultReplicationFactor: 2,
  kafkaVersion: '3.7',
  bandwidthMBps: 40,
  partitionLimit: 400,
  diskGiB: 2,
  accessRoutes: [
    { type: 'internal' as const, securityProtocol: 'PLAINTEXT' as const, allowedCidrs: ['10.0.0.0/8'] },
    { type: 'public' as const, securityProtocol: 'SASL_SSL' as const, allowedCidrs: ['0.0.0.0/0', '::/0'] },
  ],
};
const creds = { adminPassword: 'pw', broker: { username: 'fjord-broker', password: 'bpw' } };
const certificates = { PUBLIC: { serial: '0abc', chainPem: 'CHAIN\n', keyPem: 'KEY\n' } };

describe('broker spec', () => {
  it('a listener per route plus replication and control, rack = zone, the admin user a super user', () => {
    const s = brokerSpecOf(ins, 2, 'az-2', creds, {}, certificates);
    expect(s.key).toBe('ins-1-b2');
    expect(s.listeners).toEqual({
      REPLICATION: 'SASL_PLAINTEXT',
      CONTROL: 'SASL_PLAINTEXT',
      INTERNAL: 'PLAINTEXT',
      PUBLIC: 'SASL_SSL',
    });
    expect(s.properties).toMatchObject({
      'node.id': '2',
      'broker.rack': 'az-2',
      'inter.broker.listener.name': 'REPLICATION',
      'fjord.kafka.version': '3.7',
      'super.users': 'User:fjord-admin;User:fjord-broker',
      'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
      'listener.name.replication.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="fjord-broker" password="bpw";',
      'default.replication.factor': '1',
      'fjord.instance.bandwidth.bytes.per.second': '40000000',
      'fjord.instance.partition.limit': '400',
      'fjord.instance.disk.bytes': String(2 * 1024 ** 3),
      'fjord.instance.disk.high.water.ratio': '0.9',
    });
    expect(s.scramUsers).toEqual([
      'SCRAM-SHA-512=[name=fjord-admin,password=pw]',
      'SCRAM-SHA-256=[name=fjord-admin,password=pw]',
      'SCRAM-SHA-512=[name=fjord-broker,password=bpw]',
    ]);
    expect(s.properties['cluster.id']).toBeUndefined();
  });

  it('clustered: shared cluster id, metadata in PostgreSQL, the instance replication factor', () => {
    const s = brokerSpecOf(ins, 1, 'az-1', creds, { metadataDatabaseUrl: 'postgresql://x/db' }, certificates);
    expect(s.properties).toMatchObject({
      'cluster.id': 'ins-1',
      'fjord.metadata.database.url': 'postgresql://x/db',
      'default.replication.factor': '2',
      'min.insync.replicas': '1',
      'offsets.topic.replication.factor': '3',
      'transaction.state.log.replication.factor': '3',
      'transaction.state.log.min.isr': '2',
    });
  });

  it('routes: an allowlist per listener; a TLS route gets its keystore as an owner-only file named by serial', () => {
    const s = brokerSpecOf(ins, 1, 'az-1', creds, {}, certificates);
    expect(s.properties).toMatchObject({
      'listener.name.internal.fjord.allowed.cidrs': '10.0.0.0/8',
      'listener.name.public.fjord.allowed.cidrs': '0.0.0.0/0,::/0',
      'listener.name.public.ssl.keystore.type': 'PEM',
      'listener.name.public.ssl.keystore.location': 'tls/public-0abc.pem',
    });
    expect(s.properties['listener.name.internal.ssl.keystore.location']).toBeUndefined();
    expect(s.files).toEqual({ 'tls/public-0abc.pem': 'KEY\nCHAIN\n' });
  });

  it('a TLS route without a certificate is a programming error, not a broker that cannot start', () => {
    expect(() => brokerSpecOf(ins, 1, 'az-1', creds)).toThrow(/need a certificate/);
  });

  it('mutual TLS: client certificates required and verified against the tenant CA bundle', () => {
    const mtls = {
      ...ins,
      accessRoutes: [
        {
          type: 'public' as const,
          securityProtocol: 'SSL' as const,
          allowedCidrs: ['0.0.0.0/0'],
          clientCaBundle: 'TENANT CA',
        },
      ],
    };
    const s = brokerSpecOf(mtls, 1, 'az-1', creds, {}, certificates);
    expect(s.listeners.PUBLIC).toBe('SSL');
    expect(s.properties).toMatchObject({
      'listener.name.public.ssl.client.auth': 'required',
      'listener.name.public.ssl.truststore.location': 'tls/public-clients-ca.pem',
      'listener.name.public.ssl.principal.mapping.rules': 'RULE:^CN=([a-zA-Z0-9._-]+).*$/$1/,DEFAULT',
    });
    expect(s.files?.['tls/public-clients-ca.pem']).toBe('TENANT CA');
  });

  it("clustered brokers reach the metadata store as their instance's role, older instances as before", () => {
    const settings = {
      adminSecret: 'secret',
      metadataDatabaseUrl: 'postgresql://postgres@db.internal:5432/fjord',
    };
    const own = metadataStoreOf(settings, { id: 'ins-1', metadataRole: 'fjord_md_ins_1' });
    const url = new URL(own.metadataDatabaseUrl!);
    expect(url.username).toBe('fjord_md_ins_1');
    expect(url.password).toBe(instanceMetadataPassword('ins-1', 'secret'));
    expect(url.password).not.toBe(instanceMetadataPassword('ins-2', 'secret'));
    expect(`${url.host}${url.pathname}`).toBe('db.internal:5432/fjord');
    expect(metadataStoreOf(settings, { id: 'ins-1', metadataRole: null })).toEqual({
      metadataDatabaseUrl: settings.metadataDatabaseUrl,
    });
    // Standalone brokers keep their metadata on their own disks.
    expect(
      metadataStoreOf({ adminSecret: 'secret' }, { id: 'ins-1', metadataRole: 'fjord_md_ins_1' }),
    ).toEqual({});
  });
});
