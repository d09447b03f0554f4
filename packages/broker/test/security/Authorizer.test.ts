import {
  type AclBinding,
  AclOperation,
  type AclOperationCode,
  AclPermissionType,
  AclsImage,
  PatternType,
  ResourceType,
} from '@fjord/metadata';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Authorizer } from '../../src/security/Authorizer.js';

const image = (...acls: AclBinding[]) => new AclsImage(new Map(acls.map((a, i) => [`id${i}`, a])));
const acl = (over: Partial<AclBinding>): AclBinding => ({
  resourceType: ResourceType.TOPIC,
  resourceName: 'orders',
  patternType: PatternType.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: AclOperation.READ,
  permissionType: AclPermissionType.ALLOW,
  ...over,
});
const alice = { principal: 'User:alice', host: '10.0.0.1' };
const bob = { principal: 'User:bob', host: '10.0.0.2' };
const strict = new Authorizer({ superUsers: new Set(['User:admin']), allowEveryoneIfNoAclFound: false });
const lenient = new Authorizer({ superUsers: new Set(), allowEveryoneIfNoAclFound: true });
const { TOPIC, GROUP, CLUSTER } = ResourceType;
const { READ, WRITE, DESCRIBE, ALTER, ALTER_CONFIGS, DESCRIBE_CONFIGS, ALL, CREATE, DELETE } = AclOperation;

describe('Authorizer (StandardAuthorizer semantics)', () => {
  it('allows what an ALLOW grants and nothing else', () => {
    const acls = image(acl({}));
    expect(strict.authorize(acls, alice, READ, TOPIC, 'orders')).toBe(true);
    expect(strict.authorize(acls, alice, WRITE, TOPIC, 'orders')).toBe(false);
    expect(strict.authorize(acls, bob, READ, TOPIC, 'orders')).toBe(false);
    expect(strict.authorize(acls, alice, READ, TOPIC, 'orders2')).toBe(false);
    expect(strict.authorize(acls, alice, READ, GROUP, 'orders')).toBe(false);
  });

  it('READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS; only for ALLOW', () => {
    for (const op of [READ, WRITE, DELETE, ALTER])
      expect(strict.authorize(image(acl({ operation: op })), alice, DESCRIBE, TOPIC, 'orders')).toBe(true);
    expect(strict.authorize(image(acl({ operation: CREATE })), alice, DESCRIBE, TOPIC, 'orders')).toBe(false);
    expect(
      strict.authorize(image(acl({ operation: ALTER_CONFIGS })), alice, DESCRIBE_CONFIGS, TOPIC, 'orders'),
    ).toBe(true);
    expect(strict.authorize(image(acl({ operation: ALTER_CONFIGS })), alice, DESCRIBE, TOPIC, 'orders')).toBe(
      false,
    );
    // A DENY of READ does not deny DESCRIBE.
    const acls = image(acl({ operation: WRITE }), acl({ permissionType: AclPermissionType.DENY }));
    expect(strict.authorize(acls, alice, DESCRIBE, TOPIC, 'orders')).toBe(true);
    expect(strict.authorize(acls, alice, READ, TOPIC, 'orders')).toBe(false);
  });

  it('DENY beats ALLOW across literal, prefixed and wildcard patterns', () => {
    const acls = image(
      acl({ resourceName: '*', operation: ALL }),
      acl({
        resourceName: 'secret-',
        patternType: PatternType.PREFIXED,
        permissionType: AclPermissionType.DENY,
      }),
    );
    expect(strict.authorize(acls, alice, READ, TOPIC, 'public')).toBe(true);
    expect(strict.authorize(acls, alice, READ, TOPIC, 'secret-plans')).toBe(false);
    expect(strict.authorize(acls, alice, WRITE, TOPIC, 'secret-plans')).toBe(true); // the DENY is for READ only
    expect(strict.authorize(acls, alice, READ, TOPIC, 'secret')).toBe(true); // not covered by the prefix
  });

  it('matches principals through User:* and hosts through *', () => {
    const acls = image(acl({ principal: 'User:*', host: '10.0.0.1' }));
    expect(strict.authorize(acls, alice, READ, TOPIC, 'orders')).toBe(true);
    expect(strict.authorize(acls, { principal: 'User:bob', host: '10.0.0.1' }, READ, TOPIC, 'orders')).toBe(
      true,
    );
    expect(strict.authorize(acls, bob, READ, TOPIC, 'orders')).toBe(false);
  });

  it('super users pass DENY ACLs; allow.everyone.if.no.acl.found applies only to resources without ACLs', () => {
    const acls = image(acl({ principal: 'User:*', operation: ALL, permissionType: AclPermissionType.DENY }));
    expect(strict.authorize(acls, { principal: 'User:admin', host: 'x' }, READ, TOPIC, 'orders')).toBe(true);
    expect(lenient.authorize(acls, bob, READ, TOPIC, 'orders')).toBe(false);
    expect(lenient.authorize(acls, bob, READ, TOPIC, 'other')).toBe(true);
    // An ACL for someone else still counts as "an ACL on the resource".
    expect(lenient.authorize(image(acl({})), bob, READ, TOPIC, 'orders')).toBe(false);
    expect(strict.authorize(image(), bob, READ, TOPIC, 'other')).toBe(false);
  });

  it('authorizeByResourceType: some ALLOW not cancelled by a covering DENY (Kafka’s default method)', () => {
    const w = (over: Partial<AclBinding>) => acl({ operation: WRITE, ...over });
    expect(strict.authorizeByResourceType(image(w({ resourceName: 'a' })), alice, WRITE, TOPIC)).toBe(true);
    expect(strict.authorizeByResourceType(image(), alice, WRITE, TOPIC)).toBe(false);
    expect(lenient.authorizeByResourceType(image(), alice, WRITE, TOPIC)).toBe(true);
    expect(
      strict.authorizeByResourceType(
        image(
          w({ resourceName: 'abc' }),
          w({
            resourceName: 'ab',
            patternType: PatternType.PREFIXED,
            permissionType: AclPermissionType.DENY,
          }),
        ),
        alice,
        WRITE,
        TOPIC,
      ),
    ).toBe(false);
    expect(
      strict.authorizeByResourceType(
        image(w({ resourceName: 'abc' }), w({ resourceName: 'abd', permissionType: AclPermissionType.DENY })),
        alice,
        WRITE,
        TOPIC,
      ),
    ).toBe(true);
    expect(
      strict.authorizeByResourceType(
        image(w({ resourceName: 'abc' }), w({ resourceName: '*', permissionType: AclPermissionType.DENY })),
        alice,
        WRITE,
        TOPIC,
      ),
    ).toBe(false);
    expect(strict.authorizeByResourceType(image(w({ resourceName: '*' })), alice, WRITE, TOPIC)).toBe(true);
    expect(strict.authorizeByResourceType(image(w({ resourceName: 'a' })), alice, READ, TOPIC)).toBe(false);
  });

  it('reports authorized operations as Kafka’s bit field', () => {
    const bits = strict.authorizedOperations(image(acl({ operation: WRITE })), alice, TOPIC, 'orders');
    expect(bits).toBe((1 << WRITE) | (1 << DESCRIBE));
    expect(
      strict.authorizedOperations(image(), { principal: 'User:admin', host: '' }, CLUSTER, 'kafka-cluster'),
    ).toBe([5, 9, 10, 11, 12, 7, 8].reduce((b, op) => b | (1 << op), 0));
  });

  it('agrees with a direct reading of the rules on random ACL sets (property)', () => {
    const names = ['a', 'ab', 'abc', 'b', '*'];
    const ops: AclOperationCode[] = [ALL, READ, WRITE, DESCRIBE, ALTER, ALTER_CONFIGS, DESCRIBE_CONFIGS];
    const arbAcl = fc.record({
      resourceType: fc.constantFrom(TOPIC, GROUP),
      resourceName: fc.constantFrom(...names),
      patternType: fc.constantFrom(PatternType.LITERAL, PatternType.PREFIXED),
      principal: fc.constantFrom('User:alice', 'User:bob', 'User:*'),
      host: fc.constantFrom('*', '10.0.0.1', '10.0.0.2'),
      operation: fc.constantFrom(...ops),
      permissionType: fc.constantFrom(AclPermissionType.ALLOW, AclPermissionType.DENY),
    });
    const reference = (acls: AclBinding[], op: number, type: number, name: string, everyone: boolean) => {
      const applies = acls.filter(
        (a) =>
          a.resourceType === type &&
          (a.patternType === PatternType.LITERAL
            ? a.resourceName === name || a.resourceName === '*'
            : name.startsWith(a.resourceName)),
      );
      const mine = applies.filter(
        (a) =>
          (a.principal === alice.principal || a.principal === 'User:*') &&
          (a.host === '*' || a.host === alice.host),
      );
      const grants = (a: AclBinding) =>
        a.operation === ALL ||
        a.operation === op ||
        (a.permissionType === AclPermissionType.ALLOW &&
          ((op === DESCRIBE && [READ, WRITE, DELETE, ALTER].includes(a.operation as never)) ||
            (op === DESCRIBE_CONFIGS && a.operation === ALTER_CONFIGS)));
      if (mine.some((a) => a.permissionType === AclPermissionType.DENY && grants(a))) return false;
      if (mine.some((a) => a.permissionType === AclPermissionType.ALLOW && grants(a))) return true;
      return applies.length === 0 && everyone;
    };
    fc.assert(
      fc.property(
        fc.array(arbAcl, { maxLength: 12 }),
        fc.constantFrom(...ops.filter((o) => o !== ALL)),
        fc.constantFrom(TOPIC, GROUP),
        fc.constantFrom('a', 'ab', 'abc', 'abcd', 'b', 'c', '*'),
        fc.boolean(),
        (acls, op, type, name, everyone) => {
          const z = new Authorizer({ superUsers: new Set(), allowEveryoneIfNoAclFound: everyone });
          expect(z.authorize(image(...acls), alice, op, type, name)).toBe(
            reference(acls, op, type, name, everyone),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});
