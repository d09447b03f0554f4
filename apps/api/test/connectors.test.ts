import { parseAllowedNetworks } from '@fjord/egress';
import { type RestClient, startTestApi, type TestApi } from '@fjord/test-support/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Connectors as REST resources (no connect worker here: the runtime is test/e2e/connectors.test.ts).
 * Strict bodies, write-only secrets, state changes as If-Match'ed transitions, audit, isolation.
 */
let t: TestApi;
let owner: { client: RestClient; accountId: string };
let instanceId: string;
const base = () => `/v1/instances/${instanceId}/connectors`;

const sink = {
  name: 'archive',
  type: 's3-sink',
  config: { topics: ['events'], bucket: 'archive', endpoint: 'http://10.0.0.9:9', forcePathStyle: true },
  secrets: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'do-not-return-me' },
};

beforeAll(async () => {
  // The bodies here name hosts in 10.0.0.0/8, as an on-premises operator would allow; loopback stays refused.
  t = await startTestApi({ connectorAllowedNetworks: parseAllowedNetworks('10.0.0.0/8') });
  const operator = await t.operator();
  expect(
    (await operator.call('PUT', '/v1/zones/az-1', { capacity: 10, agentUrl: 'http://127.0.0.1:1' })).status,
  ).toBe(200);
  owner = await t.tenant('movers');
  const created = await owner.client.call('POST', '/v1/instances', {
    name: 'src',
    zones: ['az-1'],
    brokerCount: 1,
  });
  expect(created.status).toBe(202);
  instanceId = created.body.instance.id;
});
afterAll(() => t?.close());

const fieldsOf = (r: { status: number; headers: Headers; body: { errors?: { path: string }[] } }) => {
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (r.body.errors ?? []).map((e) => e.path);
};

describe('connectors over REST', () => {
  it('refuses bad bodies with 400 naming the field, and creates nothing', async () => {
    const post = (body: object) => owner.client.call('POST', base(), body);
    let r = await post({ ...sink, config: { ...sink.config, bukket: 'x' } });
    expect(r.status).toBe(400);
    expect(fieldsOf(r)).toEqual(['/config/bukket']);
    expect(r.body.errors[0].code).toBe('unknown_field');
    r = await post({ ...sink, config: { ...sink.config, bucket: 'Not_A_Bucket' } });
    expect(fieldsOf(r)).toEqual(['/config/bucket']);
    r = await post({ ...sink, config: { ...sink.config, topics: ['__consumer_offsets'] } });
    expect(fieldsOf(r)).toEqual(['/config/topics/0']);
    r = await post({ ...sink, config: { ...sink.config, rollSeconds: 0 } });
    expect(fieldsOf(r)).toEqual(['/config/rollSeconds']);
    r = await post({ ...sink, config: { ...sink.config, format: 'csv' } });
    expect(fieldsOf(r)).toEqual(['/config/format']);
    r = await post({ ...sink, config: { ...sink.config, errors: { deadLetterTopic: 'dlq' } } });
    expect(fieldsOf(r)).toEqual(['/config/errors/deadLetterTopic']);
    r = await post({ ...sink, secrets: { accessKeyId: 'a' } });
    expect(fieldsOf(r)).toEqual(['/secrets/secretAccessKey']);
    r = await post({ ...sink, tasksMax: 17 });
    expect(fieldsOf(r)).toEqual(['/tasksMax']);
    r = await post({ ...sink, type: 'ftp-sink' });
    expect(r.status).toBe(400);
    expect(fieldsOf(r)).toEqual(['/type']);
    expect((await owner.client.call('GET', base())).body.items).toEqual([]);
  });

  it('checks a mirror source: SASL needs a mechanism and credentials, patterns must be regular expressions; topic sync and provenance fields', async () => {
    const mirror = (config: object, secrets?: object) =>
      owner.client.call('POST', base(), {
        name: 'copy',
        type: 'mirror',
        config: { source: { bootstrapServers: ['10.0.0.1:9092'] }, topicsInclude: ['orders.*'], ...config },
        ...(secrets ? { secrets } : {}),
      });
    let r = await mirror({ source: { bootstrapServers: ['10.0.0.1:9092'], securityProtocol: 'SASL_SSL' } });
    expect(r.status).toBe(400);
    // Every missing piece at once.
    expect(fieldsOf(r).sort()).toEqual([
      '/config/source/saslMechanism',
      '/secrets/saslPassword',
      '/secrets/saslUsername',
    ]);
    r = await mirror({
      source: {
        bootstrapServers: ['10.0.0.1:9092'],
        securityProtocol: 'SASL_SSL',
        saslMechanism: 'SCRAM-SHA-512',
      },
    });
    expect(fieldsOf(r).sort()).toEqual(['/secrets/saslPassword', '/secrets/saslUsername']);
    r = await mirror({ topicsInclude: ['orders[('] });
    expect(fieldsOf(r)).toEqual(['/config/topicsInclude/0']);
    r = await mirror({ source: { bootstrapServers: ['no-port'] } });
    expect(fieldsOf(r)).toEqual(['/config/source/bootstrapServers/0']);
    r = await mirror({
      topicConfigsExclude: ['retention[('],
      topicSyncIntervalMs: 10,
      provenanceHeader: 'yes',
    });
    expect(fieldsOf(r).sort()).toEqual([
      '/config/provenanceHeader',
      '/config/topicConfigsExclude/0',
      '/config/topicSyncIntervalMs',
    ]);
    r = await mirror(
      {
        source: {
          bootstrapServers: ['10.0.0.1:9096'],
          securityProtocol: 'SASL_SSL',
          saslMechanism: 'SCRAM-SHA-512',
        },
      },
      { saslUsername: 'u', saslPassword: 'mirror-secret' },
    );
    expect(r.status).toBe(201);
    // Topic configs follow the source and records carry their provenance unless asked otherwise.
    expect(r.body.config).toMatchObject({
      topicSyncIntervalMs: 10_000,
      syncTopicConfigs: true,
      topicConfigsExclude: [],
      provenanceHeader: true,
    });
    expect(r.body.secretsSet).toEqual(['saslPassword', 'saslUsername']);
    expect(JSON.stringify(r.body)).not.toContain('mirror-secret');
    // A PATCH is checked as a create: clearing the secrets a SASL source needs names them.
    const cleared = await owner.client.call('PATCH', `${base()}/${r.body.id}`, { secrets: {} });
    expect(fieldsOf(cleared).sort()).toEqual(['/secrets/saslPassword', '/secrets/saslUsername']);
    expect((await owner.client.call('DELETE', `${base()}/${r.body.id}`)).status).toBe(204);
  });

  it('checks a PostgreSQL sink: identifiers, connection, error tolerance; the password is write-only', async () => {
    const pgSink = (config: object, secrets?: object) =>
      owner.client.call('POST', base(), {
        name: 'rows',
        type: 'postgres-sink',
        config: {
          topics: ['orders'],
          connection: { host: 'db.internal', database: 'shop', user: 'writer' },
          table: 'orders',
          ...config,
        },
        ...(secrets ? { secrets } : {}),
      });
    let r = await pgSink({ table: 'Orders; drop' });
    expect(r.status).toBe(400);
    expect(fieldsOf(r)).toEqual(['/config/table']);
    r = await pgSink({ connection: { host: 'db.internal', database: 'shop', user: 'writer', port: 0 } });
    expect(fieldsOf(r)).toEqual(['/config/connection/port']);
    r = await pgSink({ mode: 'merge' });
    expect(fieldsOf(r)).toEqual(['/config/mode']);
    r = await pgSink({ errors: { deadLetterTopic: 'dlq' } });
    expect(fieldsOf(r)).toEqual(['/config/errors/deadLetterTopic']);
    r = await pgSink({}, { password: 'pg-secret', user: 'x' });
    expect(fieldsOf(r)).toEqual(['/secrets/user']);
    r = await pgSink({ errors: { tolerance: 'all', deadLetterTopic: 'dlq' } }, { password: 'pg-secret' });
    expect(r.status).toBe(201);
    expect(r.body.config).toMatchObject({
      mode: 'insert',
      keyColumn: 'key',
      schema: 'public',
      autoCreate: false,
      connection: { port: 5432, ssl: false },
      errors: { tolerance: 'all', deadLetterTopic: 'dlq' },
    });
    expect(r.body.secretsSet).toEqual(['password']);
    expect(JSON.stringify(r.body)).not.toContain('pg-secret');
    expect((await owner.client.call('DELETE', `${base()}/${r.body.id}`)).status).toBe(204);
  });

  it('refuses hosts that are or resolve to internal addresses, naming the field, and creates nothing', async () => {
    const audited = async () =>
      (await owner.client.call('GET', '/v1/audit-events?limit=100')).body.items.filter(
        (e: { action: string }) => e.action === 'CreateConnector',
      ).length;
    const auditedBefore = await audited();
    const post = (body: object) => owner.client.call('POST', base(), body);
    const refusals = async (body: object) => {
      const r = await post(body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.code).toBe('validation_failed');
      return r.body.errors.map((e: { path: string; message: string; code: string }) => [
        e.path,
        e.message,
        e.code,
      ]);
    };
    const mirror = (bootstrapServers: string[]) => ({
      name: 'copy',
      type: 'mirror',
      config: { source: { bootstrapServers }, topicsInclude: ['orders'] },
    });
    // Every refused server is named; an allowed one (10.0.0.0/8 here) is not.
    expect(await refusals(mirror(['10.0.0.1:9092', '127.0.0.1:9092', '169.254.169.254:80']))).toEqual([
      ['/config/source/bootstrapServers/1', '127.0.0.1 is not a public address (loopback)', 'not_public'],
      [
        '/config/source/bootstrapServers/2',
        '169.254.169.254 is not a public address (linkLocal)',
        'not_public',
      ],
    ]);
    // A name is judged by what the system resolver makes of it now.
    const [[path, message]] = await refusals(mirror(['localhost:9092']));
    expect(path).toBe('/config/source/bootstrapServers/0');
    expect(message).toMatch(/^localhost resolves to (127\.0\.0\.1|::1), not a public address \(loopback\)$/);
    expect(
      await refusals({ ...sink, config: { ...sink.config, endpoint: 'http://169.254.169.254/latest/' } }),
    ).toEqual([['/config/endpoint', '169.254.169.254 is not a public address (linkLocal)', 'not_public']]);
    expect(await refusals({ ...sink, config: { ...sink.config, endpoint: 'http://[::1]:9000' } })).toEqual([
      ['/config/endpoint', '::1 is not a public address (loopback)', 'not_public'],
    ]);
    expect(
      await refusals({
        name: 'rows',
        type: 'postgres-sink',
        config: {
          topics: ['orders'],
          connection: { host: '192.168.0.10', database: 'fjord', user: 'postgres' },
          table: 'orders',
        },
      }),
    ).toEqual([['/config/connection/host', '192.168.0.10 is not a public address (private)', 'not_public']]);
    expect((await owner.client.call('GET', base())).body.items).toEqual([]);
    expect(await t.prisma.connectorTask.count()).toBe(0);
    expect(await audited()).toBe(auditedBefore);
  });

  it('creates with defaults filled in, never returns a secret, and refuses a second of the same name', async () => {
    const r = await owner.client.call('POST', base(), { ...sink, tasksMax: 2 });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      name: 'archive',
      type: 's3-sink',
      tasksMax: 2,
      desiredState: 'RUNNING',
      state: 'UNASSIGNED',
      secretsSet: ['accessKeyId', 'secretAccessKey'],
      config: {
        prefix: '',
        region: 'us-east-1',
        format: 'jsonl.gz',
        rollSeconds: 600,
        errors: { tolerance: 'none' },
      },
    });
    expect(r.body.tasks.map((x: { task: number; state: string }) => [x.task, x.state])).toEqual([
      [0, 'UNASSIGNED'],
      [1, 'UNASSIGNED'],
    ]);
    const id = r.body.id;
    for (const read of [
      r,
      await owner.client.call('GET', `${base()}/${id}`),
      await owner.client.call('GET', base()),
    ])
      expect(JSON.stringify(read.body)).not.toContain('do-not-return-me');
    const events = (await owner.client.call('GET', '/v1/audit-events?limit=100')).body.items;
    const created = events.find((e: { action: string }) => e.action === 'CreateConnector');
    expect(created.resource).toBe(`instance/${instanceId}/connector/archive`);
    expect(JSON.stringify(events)).not.toContain('do-not-return-me');

    const again = await owner.client.call('POST', base(), sink);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('name_taken');
    expect((await owner.client.call('GET', `${base()}/${id}/offsets`)).body).toEqual({
      connectorId: id,
      partitions: [],
    });
  });

  it('pause, resume and restart are If-Match transitions; asking for the current state changes nothing', async () => {
    const id = (await owner.client.call('GET', base())).body.items[0].id;
    const one = `${base()}/${id}`;
    const before = await owner.client.call('GET', one);
    const paused = await owner.client.call('POST', `${one}/pause`, undefined, {
      'if-match': before.headers.get('etag')!,
    });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({
      desiredState: 'PAUSED',
      state: 'PAUSED',
      version: before.body.version + 1,
    });
    const stale = await owner.client.call('POST', `${one}/resume`, undefined, {
      'if-match': before.headers.get('etag')!,
    });
    expect(stale.status).toBe(412);
    const again = await owner.client.call('POST', `${one}/pause`);
    expect(again.body.version).toBe(paused.body.version);
    const resumed = await owner.client.call('POST', `${one}/resume`);
    expect(resumed.body).toMatchObject({ desiredState: 'RUNNING', version: paused.body.version + 1 });
    const restarted = await owner.client.call('POST', `${one}/restart`);
    expect(restarted.body.version).toBe(resumed.body.version + 1);
    const actions = (await owner.client.call('GET', '/v1/audit-events?limit=100')).body.items.map(
      (e: { action: string }) => e.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining(['PauseConnector', 'ResumeConnector', 'RestartConnector']),
    );
  });

  it("offsets are set only while paused with every task stopped, for the connector's topics", async () => {
    const id = (await owner.client.call('GET', base())).body.items[0].id;
    const offsets = `${base()}/${id}/offsets`;
    const body = { partitions: [{ topic: 'events', partition: 1, offset: 42 }] };
    let r = await owner.client.call('PUT', offsets, body);
    expect(r.status).toBe(409);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body.detail).toMatch(/pause/);
    expect((await owner.client.call('POST', `${base()}/${id}/pause`)).status).toBe(200);
    r = await owner.client.call('PUT', offsets, {
      partitions: [{ topic: 'other', partition: 0, offset: 1 }],
    });
    expect(fieldsOf(r)).toEqual(['/partitions/0/topic']);
    r = await owner.client.call('PUT', offsets, {
      partitions: [{ topic: 'events', partition: 0, offset: -1 }],
    });
    expect(fieldsOf(r)).toEqual(['/partitions/0/offset']);
    r = await owner.client.call('PUT', offsets, body);
    expect(r.status).toBe(200);
    expect(r.body.partitions).toEqual([
      expect.objectContaining({ topic: 'events', partition: 1, offset: 42 }),
    ]);
    expect((await owner.client.call('GET', offsets)).body.partitions[0].offset).toBe(42);
    // Marked, so sinks and targets that keep their own position start from it too.
    expect(
      await t.prisma.connectorOffset.findMany({
        where: { connectorId: id },
        select: { partition: true, offset: true, resetPending: true },
      }),
    ).toEqual([{ partition: 1, offset: 42n, resetPending: true }]);
    expect((await owner.client.call('POST', `${base()}/${id}/resume`)).status).toBe(200);
  });

  it('PATCH changes config and secrets in place (tasks restart); the same again changes nothing', async () => {
    const before = (await owner.client.call('GET', base())).body.items[0];
    const one = `${base()}/${before.id}`;
    const patch = (body: object, headers: Record<string, string> = {}) =>
      owner.client.call('PATCH', one, body, headers);
    // Checked against the connector's type, naming the field; nothing changes.
    let r = await patch({ config: { ...sink.config, bukket: 'x' } });
    expect(fieldsOf(r)).toEqual(['/config/bukket']);
    r = await patch({ secrets: { accessKeyId: 'a' } });
    expect(fieldsOf(r)).toEqual(['/secrets/secretAccessKey']);
    r = await patch({ tasksMx: 2 });
    expect(fieldsOf(r)).toEqual(['/tasksMx']);
    r = await patch({ config: { ...sink.config, endpoint: 'http://127.0.0.1:9000' } });
    expect(r.body.errors).toEqual([
      {
        path: '/config/endpoint',
        message: '127.0.0.1 is not a public address (loopback)',
        code: 'not_public',
      },
    ]);
    expect((await owner.client.call('GET', one)).body.version).toBe(before.version);

    const config = { ...sink.config, rollSeconds: 60 };
    r = await patch(
      { config, secrets: { accessKeyId: 'AKIDNEW', secretAccessKey: 'new-secret-never-shown' } },
      { 'if-match': `"${before.version}"` },
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ version: before.version + 1, config: { rollSeconds: 60, prefix: '' } });
    expect(r.headers.get('etag')).toBe(`"${before.version + 1}"`);
    const row = await t.prisma.connector.findUniqueOrThrow({ where: { id: before.id } });
    expect(row.generation).toBeGreaterThan(0);
    const same = await patch({
      config,
      secrets: { accessKeyId: 'AKIDNEW', secretAccessKey: 'new-secret-never-shown' },
    });
    expect(same.body.version).toBe(before.version + 1);
    expect((await patch({ config }, { 'if-match': `"${before.version}"` })).status).toBe(412);
    const events = (await owner.client.call('GET', '/v1/audit-events?limit=100')).body.items;
    expect(events.filter((e: { action: string }) => e.action === 'ModifyConnector')).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain('new-secret-never-shown');
  });

  it('a config stored before a field existed reads with its default, and sending it back changes nothing', async () => {
    const before = (await owner.client.call('GET', base())).body.items[0];
    const one = `${base()}/${before.id}`;
    // As if stored by an older release, before `format` existed (JSON lines was all there was).
    const row = await t.prisma.connector.findUniqueOrThrow({ where: { id: before.id } });
    const { format: _format, ...older } = row.config as Record<string, unknown>;
    expect(_format).toBeDefined();
    await t.prisma.connector.update({ where: { id: before.id }, data: { config: older as object } });
    const read = (await owner.client.call('GET', one)).body;
    expect(read.config).toEqual(before.config);
    const again = await owner.client.call('PATCH', one, { config: read.config });
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(before.version);
  });

  it("verify-secrets says whether secrets are the connector's, nothing more; audited, limited per connector", async () => {
    const one = `${base()}/${(await owner.client.call('GET', base())).body.items[0].id}`;
    const check = (secrets: Record<string, string>) =>
      owner.client.call('POST', `${one}/verify-secrets`, { secrets });
    const right = { accessKeyId: 'AKIDNEW', secretAccessKey: 'new-secret-never-shown' };
    let r = await check(right);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ matches: true });
    expect((await check({ ...right, secretAccessKey: 'guess' })).body).toEqual({ matches: false });
    expect((await check({ accessKeyId: 'AKIDNEW' })).body).toEqual({ matches: false });
    r = await owner.client.call('POST', `${one}/verify-secrets`, { secrets: right, extra: 1 });
    expect(fieldsOf(r)).toEqual(['/extra']);
    const events = (await owner.client.call('GET', '/v1/audit-events?limit=100')).body.items.filter(
      (e: { action: string }) => e.action === 'VerifyConnectorSecrets',
    );
    expect(events.map((e: { details: { matches: boolean } }) => e.details.matches)).toEqual(
      expect.arrayContaining([true, false]),
    );
    expect(JSON.stringify(events)).not.toContain('guess');
    // Guessing gets a few tries a minute: 20 per connector, whoever asks.
    let limited: Awaited<ReturnType<typeof check>> | undefined;
    for (let i = 0; i < 20 && !limited; i++) {
      const x = await check({ ...right, secretAccessKey: `guess-${i}` });
      if (x.status === 429) limited = x;
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited!.body.code).toBe('rate_limited');
  });

  it('changing tasksMax or the topics chosen needs the connector paused with its tasks stopped', async () => {
    const one = `${base()}/${(await owner.client.call('GET', base())).body.items[0].id}`;
    const config = { ...sink.config, rollSeconds: 60 };
    let r = await owner.client.call('PATCH', one, { tasksMax: 3 });
    expect(r.status).toBe(409);
    expect(r.body.detail).toMatch(/paused/);
    r = await owner.client.call('PATCH', one, { config: { ...config, topics: ['events', 'more'] } });
    expect(r.status).toBe(409);
    expect((await owner.client.call('POST', `${one}/pause`)).status).toBe(200);
    r = await owner.client.call('PATCH', one, {
      tasksMax: 3,
      config: { ...config, topics: ['events', 'more'] },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.tasks.map((x: { task: number }) => x.task)).toEqual([0, 1, 2]);
    r = await owner.client.call('PATCH', one, { tasksMax: 1 });
    expect(r.body.tasks.map((x: { task: number }) => x.task)).toEqual([0]);
    expect((await owner.client.call('POST', `${one}/resume`)).status).toBe(200);
  });

  it('another tenant sees no connector; the connector actions are in the catalogue', async () => {
    const id = (await owner.client.call('GET', base())).body.items[0].id;
    const other = await t.tenant('stranger');
    const r = await other.client.call('GET', `${base()}/${id}`);
    expect(r.status).toBe(404);
    expect((await other.client.call('POST', `${base()}/${id}/pause`)).status).toBe(404);
    const catalogue = JSON.stringify((await owner.client.call('GET', '/v1/actions')).body.items);
    for (const a of ['Create', 'Describe', 'List', 'Modify', 'Delete'])
      expect(catalogue).toContain(`kafka:${a}Connector`);
  });

  it('delete removes the connector and its tasks; it is 404 after', async () => {
    const id = (await owner.client.call('GET', base())).body.items[0].id;
    expect((await owner.client.call('DELETE', `${base()}/${id}`)).status).toBe(204);
    expect((await owner.client.call('GET', `${base()}/${id}`)).status).toBe(404);
    expect(await t.prisma.connectorTask.count({ where: { connectorId: id } })).toBe(0);
  });
});
