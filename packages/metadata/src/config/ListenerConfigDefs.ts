import { CidrAllowlist } from './CidrAllowlist.js';
import type { ConfigKeyDef, ConfigValue } from './ConfigDef.js';

/**
 * Listener-prefixed broker configs that change at run time (`listener.name.<listener>.<key>`,
 * the listener lowercased), as Kafka's DynamicBrokerConfig reconfigures listeners. Their names
 * are patterns, so they are matched here rather than listed.
 */
export const ALLOWED_CIDRS_SUFFIX = 'fjord.allowed.cidrs';

/** TLS material of a listener, reloaded per broker (Kafka refuses them as cluster defaults too). */
export const DYNAMIC_SSL_SUFFIXES = [
  'ssl.keystore.location',
  'ssl.keystore.type',
  'ssl.keystore.password',
  'ssl.key.password',
  'ssl.truststore.location',
] as const;

const LISTENER_KEY = /^listener\.name\.([a-z0-9_]+)\.(.+)$/;

/** `listener.name.<listener lowercased>.fjord.allowed.cidrs` */
export function allowedCidrsKey(listener: string): string {
  return `listener.name.${listener.toLowerCase()}.${ALLOWED_CIDRS_SUFFIX}`;
}

const validCidrs = (v: ConfigValue): string | undefined => {
  const parsed = CidrAllowlist.parse(typeof v === 'string' ? v : '');
  return typeof parsed === 'string' ? parsed : undefined;
};

export interface ListenerConfigDef {
  readonly def: ConfigKeyDef;
  readonly listener: string;
  readonly suffix: string;
  /** Settable for one broker only, never as the cluster-wide default. */
  readonly perBrokerOnly: boolean;
}

/** The definition of a dynamic listener-prefixed key, or undefined when `name` is not one. */
export function listenerConfigDef(name: string): ListenerConfigDef | undefined {
  const m = LISTENER_KEY.exec(name);
  if (!m) return undefined;
  const [, listener, suffix] = m as unknown as [string, string, string];
  if (suffix === ALLOWED_CIDRS_SUFFIX)
    return {
      def: { name, type: 'string', default: '', validate: validCidrs },
      listener,
      suffix,
      perBrokerOnly: false,
    };
  if ((DYNAMIC_SSL_SUFFIXES as readonly string[]).includes(suffix))
    return {
      def: suffix.endsWith('password')
        ? { name, type: 'password', default: null, sensitive: true }
        : { name, type: 'string', default: null },
      listener,
      suffix,
      perBrokerOnly: true,
    };
  return undefined;
}
