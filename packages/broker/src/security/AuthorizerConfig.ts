import { ConfigError, isValidPrincipal } from '@fjord/metadata';
import type { ResolvedBrokerConfig } from '../config/BrokerConfig.js';
import { Authorizer } from './Authorizer.js';

/** Kafka's authorizer class names; any of them turns on Fjord's authorizer (same semantics). */
export const KNOWN_AUTHORIZERS: ReadonlySet<string> = new Set([
  'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'kafka.security.authorizer.AclAuthorizer',
  'kafka.security.auth.SimpleAclAuthorizer',
]);

/**
 * The authorizer `authorizer.class.name` asks for, or undefined when it is empty (Kafka then
 * authorizes nothing: every request is allowed and the ACL APIs answer SECURITY_DISABLED).
 */
export function authorizerFromConfig(config: ResolvedBrokerConfig): Authorizer | undefined {
  const className = String(config.values.get('authorizer.class.name') ?? '').trim();
  if (className === '') return undefined;
  if (!KNOWN_AUTHORIZERS.has(className))
    throw new ConfigError(
      'authorizer.class.name',
      `${className} is not available; use one of ${[...KNOWN_AUTHORIZERS].join(', ')}`,
    );
  const superUsers = new Set<string>();
  for (const raw of String(config.values.get('super.users') ?? '').split(';')) {
    const p = raw.trim();
    if (p === '') continue;
    if (!isValidPrincipal(p)) throw new ConfigError('super.users', `'${p}' is not principalType:name`);
    superUsers.add(p);
  }
  return new Authorizer({
    superUsers,
    allowEveryoneIfNoAclFound: config.values.get('allow.everyone.if.no.acl.found') === true,
  });
}
