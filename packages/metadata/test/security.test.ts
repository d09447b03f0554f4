import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AclBinding,
  AclOperation,
  AclPermissionType,
  describeClientQuotas,
  describeUserScramCredentials,
  filterMatches,
  MatchType,
  MetadataImage,
  type MetadataRecord,
  PatternType,
  planAlterClientQuotas,
  planAlterUserScramCredentials,
  planCreateAcls,
  planDeleteAcls,
  ResourceType,
  replay,
  scramKeys,
  userClientKey,
} from '../src/index.js';

function apply(image: MetadataImage, records: readonly MetadataRecord[]): MetadataImage {
  return replay(
    image,
    records.map((record, i) => ({ offset: image.offset + 1 + i, record })),
  );
}

const acl = (over: Partial<AclBinding> = {}): AclBinding => ({
  resourceType: ResourceType.TOPIC,
  resourceName: 'orders',
  patternType: PatternType.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: AclOperation.READ,
  permissionType: AclPermissionType.ALLOW,
  ...over,
});

const anyFilter = {
  resourceType: ResourceType.ANY,
  resourceName: null,
  patternType: PatternType.ANY,
  principal: null,
  host: null,
  operation: AclOperation.ANY,
  permissionType: AclPermissionType.ANY,
} as const;

let ids = 0;
const nextId = () => `id-${ids++}`;

describe('ACL planning', () => {
  it('creates valid bindings once, refuses invalid ones with Kafka’s messages', () => {
    const plan = planCreateAcls(
      MetadataImage.EMPTY,
      [
        acl(),
        acl(), // the same binding twice: one record, both succeed
        acl({ resourceType: ResourceType.CLUSTER, resourceName: 'other' }),
        acl({ patternType: PatternType.MATCH }),
        acl({ resourceName: '' }),
        acl({ operation: AclOperation.ANY }),
        acl({ permissionType: AclPermissionType.ANY }),
        acl({ principal: 'alice' }),
        acl({
          resourceType: ResourceType.CLUSTER,
          resourceName: 'kafka-cluster',
          operation: AclOperation.ALTER,
        }),
      ],
      nextId,
    );
    expect(plan.results.map((r) => r.error)).toEqual([
      null,
      null,
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      null,
    ]);
    expect(plan.results[2]!.message).toBe('The only valid name for the CLUSTER resource is kafka-cluster');
    expect(plan.records).toHaveLength(2);
    const image = apply(MetadataImage.EMPTY, plan.records);
    expect(image.acls.byId.size).toBe(2);
    // Re-creating an existing binding is a success without a record.
    const again = planCreateAcls(image, [acl()], nextId);
    expect(again.results[0]!.error).toBeNull();
    expect(again.records).toEqual([]);
  });

  it('deletes what each filter matches and reports it per filter', () => {
    const image = apply(
      MetadataImage.EMPTY,
      planCreateAcls(
        MetadataImage.EMPTY,
        [
          acl(),
          acl({ operation: AclOperation.WRITE }),
          acl({ resourceName: 'ord', patternType: PatternType.PREFIXED }),
          acl({ resourceType: ResourceType.GROUP, resourceName: 'g' }),
        ],
        nextId,
      ).records,
    );
    const plan = planDeleteAcls(image, [
      {
        ...anyFilter,
        resourceType: ResourceType.TOPIC,
        resourceName: 'orders',
        patternType: PatternType.MATCH,
      },
      { ...anyFilter, resourceType: ResourceType.TOPIC, operation: AclOperation.WRITE },
      { ...anyFilter, operation: AclOperation.UNKNOWN },
    ]);
    // MATCH on "orders" finds the literal ACLs and the PREFIXED "ord" one.
    expect(plan.results[0]!.deleted).toHaveLength(3);
    expect(plan.results[1]!.deleted).toHaveLength(1);
    expect(plan.results[2]!.error).toBe('INVALID_REQUEST');
    expect(plan.records).toHaveLength(3);
    const after = apply(image, plan.records);
    expect([...after.acls.byId.values()]).toEqual([
      acl({ resourceType: ResourceType.GROUP, resourceName: 'g' }),
    ]);
  });

  it('an exact filter built from a binding always matches it, and ANY matches everything', () => {
    const binding = fc.record({
      resourceType: fc.constantFrom(ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID),
      resourceName: fc.string({ minLength: 1, maxLength: 8 }),
      patternType: fc.constantFrom(PatternType.LITERAL, PatternType.PREFIXED),
      principal: fc.string({ maxLength: 5 }).map((s) => `User:${s}`),
      host: fc.constantFrom('*', '10.0.0.1'),
      operation: fc.constantFrom(AclOperation.READ, AclOperation.WRITE, AclOperation.ALL),
      permissionType: fc.constantFrom(AclPermissionType.ALLOW, AclPermissionType.DENY),
    });
    fc.assert(
      fc.property(binding, (b) => {
        expect(filterMatches({ ...b }, b)).toBe(true);
        expect(filterMatches(anyFilter, b)).toBe(true);
        // MATCH with the concrete name finds literal and prefixed patterns that apply to it.
        if (b.patternType === PatternType.PREFIXED)
          expect(
            filterMatches(
              { ...anyFilter, resourceName: `${b.resourceName}x`, patternType: PatternType.MATCH },
              b,
            ),
          ).toBe(true);
      }),
    );
  });
});

describe('SCRAM credential planning', () => {
  const salted = Buffer.alloc(32, 7);
  const up = (name: string, mechanism = 1, iterations = 4096) => ({
    name,
    mechanism,
    iterations,
    salt: Buffer.from('salt'),
    saltedPassword: salted,
  });

  it('stores only derived keys and follows ScramControlManager’s rules', () => {
    const plan = planAlterUserScramCredentials(
      MetadataImage.EMPTY,
      [{ name: 'ghost', mechanism: 1 }],
      [up('alice'), up('bob', 2, 8192), up('', 1), up('carol', 3), up('dave', 1, 100), up('erin', 1, 20000)],
    );
    const byUser = Object.fromEntries(plan.results.map((r) => [r.user, r.error]));
    expect(byUser).toEqual({
      alice: null,
      bob: null,
      ghost: 'RESOURCE_NOT_FOUND',
      '': 'UNACCEPTABLE_CREDENTIAL',
      carol: 'UNSUPPORTED_SASL_MECHANISM',
      dave: 'UNACCEPTABLE_CREDENTIAL',
      erin: 'UNACCEPTABLE_CREDENTIAL',
    });
    const image = apply(MetadataImage.EMPTY, plan.records);
    const cred = image.scram.get('alice', 'SCRAM-SHA-256')!;
    expect(cred.storedKey).toEqual(scramKeys('SCRAM-SHA-256', salted).storedKey);
    expect(JSON.stringify(plan.records)).not.toContain(salted.toString('base64'));
    expect(image.scram.get('bob', 'SCRAM-SHA-512')!.iterations).toBe(8192);
    expect(describeUserScramCredentials(image, null).map((d) => d.user)).toEqual(['alice', 'bob']);
    expect(describeUserScramCredentials(image, ['alice', 'alice', 'zed']).map((d) => d.error)).toEqual([
      'DUPLICATE_RESOURCE',
      'RESOURCE_NOT_FOUND',
    ]);
    // The same user twice in one request is a duplicate, even across deletion and upsertion.
    const dup = planAlterUserScramCredentials(image, [{ name: 'alice', mechanism: 1 }], [up('alice', 2)]);
    expect(dup.results).toEqual([
      { user: 'alice', error: 'DUPLICATE_RESOURCE', message: expect.any(String) },
    ]);
    expect(dup.records).toEqual([]);
    const del = planAlterUserScramCredentials(image, [{ name: 'alice', mechanism: 1 }], []);
    expect(apply(image, del.records).scram.get('alice', 'SCRAM-SHA-256')).toBeUndefined();
  });
});

describe('client quota planning', () => {
  const user = (name: string | null) => ({ entityType: 'user', entityName: name });
  const client = (name: string | null) => ({ entityType: 'client-id', entityName: name });

  it('validates entities, keys and values as ClientQuotaControlManager does', () => {
    const plan = planAlterClientQuotas(MetadataImage.EMPTY, [
      { entity: [user('alice')], ops: [{ key: 'producer_byte_rate', value: 1024 }] },
      { entity: [user(null), client('app')], ops: [{ key: 'consumer_byte_rate', value: 2048 }] },
      { entity: [user('bob')], ops: [{ key: 'producer_byte_rate', value: 1.5 }] },
      { entity: [user('carol')], ops: [{ key: 'request_percentage', value: 0 }] },
      { entity: [user('dave')], ops: [{ key: 'bogus', value: 1 }] },
      { entity: [], ops: [] },
      { entity: [{ entityType: 'ip', entityName: '10.0.0.1' }, user('x')], ops: [] },
      { entity: [{ entityType: 'ip', entityName: 'not an ip' }], ops: [] },
      { entity: [user('alice')], ops: [] },
      {
        entity: [user('erin')],
        ops: [
          { key: 'request_percentage', value: 50 },
          { key: 'request_percentage', value: 60 },
        ],
      },
    ]);
    expect(plan.results.map((r) => r.error)).toEqual([
      null,
      null,
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
    ]);
    const image = apply(MetadataImage.EMPTY, plan.records);
    expect(image.clientQuotas.value(userClientKey('alice', undefined), 'producer_byte_rate')).toBe(1024);
    expect(image.clientQuotas.value(userClientKey(null, 'app'), 'consumer_byte_rate')).toBe(2048);
    // Unchanged values produce no records; removal of a set key does.
    expect(
      planAlterClientQuotas(image, [
        { entity: [user('alice')], ops: [{ key: 'producer_byte_rate', value: 1024 }] },
      ]).records,
    ).toEqual([]);
    const removed = apply(
      image,
      planAlterClientQuotas(image, [
        { entity: [user('alice')], ops: [{ key: 'producer_byte_rate', value: null }] },
      ]).records,
    );
    expect(removed.clientQuotas.entities.size).toBe(1);
  });

  it('describes with exact, default and specified matches', () => {
    const image = apply(
      MetadataImage.EMPTY,
      planAlterClientQuotas(MetadataImage.EMPTY, [
        { entity: [user('alice')], ops: [{ key: 'producer_byte_rate', value: 1 }] },
        { entity: [user(null)], ops: [{ key: 'producer_byte_rate', value: 2 }] },
        { entity: [user('alice'), client('c1')], ops: [{ key: 'producer_byte_rate', value: 3 }] },
        { entity: [client('c2')], ops: [{ key: 'producer_byte_rate', value: 4 }] },
      ]).records,
    );
    const values = (r: ReturnType<typeof describeClientQuotas>) =>
      r.ok ? r.entries.map((e) => e.values.get('producer_byte_rate')).sort() : r.error;
    expect(values(describeClientQuotas(image, [], false))).toEqual([1, 2, 3, 4]);
    expect(
      values(
        describeClientQuotas(
          image,
          [{ entityType: 'user', matchType: MatchType.EXACT, match: 'alice' }],
          false,
        ),
      ),
    ).toEqual([1, 3]);
    expect(
      values(
        describeClientQuotas(
          image,
          [{ entityType: 'user', matchType: MatchType.EXACT, match: 'alice' }],
          true,
        ),
      ),
    ).toEqual([1]);
    expect(
      values(
        describeClientQuotas(
          image,
          [{ entityType: 'user', matchType: MatchType.DEFAULT, match: null }],
          true,
        ),
      ),
    ).toEqual([2]);
    expect(
      values(
        describeClientQuotas(
          image,
          [{ entityType: 'user', matchType: MatchType.SPECIFIED, match: null }],
          false,
        ),
      ),
    ).toEqual([1, 2, 3]);
    expect(
      values(describeClientQuotas(image, [{ entityType: 'group', matchType: 0, match: 'x' }], false)),
    ).toBe('UNSUPPORTED_VERSION');
  });
});
