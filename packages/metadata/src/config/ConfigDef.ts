/**
 * Typed configuration definitions in the style of Kafka's ConfigDef: every key has a type,
 * a default and optional validation, so values are parsed once and bad ones refused with a
 * message that names the key.
 */
export type ConfigType = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list' | 'password';

export type ConfigValue = number | bigint | boolean | string | string[] | null;

export interface ConfigKeyDef {
  readonly name: string;
  readonly type: ConfigType;
  /** Parsed default; `null` means "unset" (Kafka's null default). */
  readonly default: ConfigValue;
  /** Returns an error message for an invalid parsed value. */
  readonly validate?: (value: ConfigValue) => string | undefined;
  /** Allowed values (case-sensitive), for string and list types. */
  readonly validValues?: readonly string[];
  readonly sensitive?: boolean;
  /** What the key does, for DescribeConfigs' `documentation` (v3+). */
  readonly documentation?: string;
}

/** Kafka's DescribeConfigs `configType` ids (DescribeConfigsResponse.ConfigType; 0 is UNKNOWN). */
export const DESCRIBE_CONFIG_TYPE: Readonly<Record<ConfigType, number>> = {
  boolean: 1,
  string: 2,
  int: 3,
  long: 5,
  double: 6,
  list: 7,
  password: 9,
};

export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`Invalid value for configuration ${key}: ${message}`);
    this.name = 'ConfigError';
  }
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** Parses a raw string as Kafka would for the key's type. Throws ConfigError. */
export function parseConfigValue(def: ConfigKeyDef, raw: string): ConfigValue {
  const text = raw.trim();
  let value: ConfigValue;
  switch (def.type) {
    case 'int': {
      if (!/^[-+]?\d+$/.test(text)) throw new ConfigError(def.name, `'${raw}' is not an integer`);
      const n = Number(text);
      if (n < INT_MIN || n > INT_MAX) throw new ConfigError(def.name, `${raw} is out of the int range`);
      value = n;
      break;
    }
    case 'long': {
      if (!/^[-+]?\d+$/.test(text)) throw new ConfigError(def.name, `'${raw}' is not an integer`);
      const n = Number(text);
      // Longs that fit a double exactly stay numbers; Long.MAX_VALUE-style values saturate.
      value = Number.isSafeInteger(n) ? n : n > 0 ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
      break;
    }
    case 'double': {
      const n = Number(text);
      if (text === '' || Number.isNaN(n)) throw new ConfigError(def.name, `'${raw}' is not a number`);
      value = n;
      break;
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower !== 'true' && lower !== 'false')
        throw new ConfigError(def.name, `'${raw}' is not a boolean (true or false)`);
      value = lower === 'true';
      break;
    }
    case 'list':
      value = text === '' ? [] : text.split(',').map((s) => s.trim());
      break;
    default:
      value = text;
  }
  checkConfigValue(def, value);
  return value;
}

export function checkConfigValue(def: ConfigKeyDef, value: ConfigValue): void {
  if (def.validValues && value !== null) {
    const values = Array.isArray(value) ? value : [String(value)];
    for (const v of values) {
      if (!def.validValues.includes(v))
        throw new ConfigError(def.name, `'${v}' is not one of ${def.validValues.join(', ')}`);
    }
  }
  const problem = def.validate?.(value);
  if (problem) throw new ConfigError(def.name, problem);
}

export function atLeast(min: number): (v: ConfigValue) => string | undefined {
  return (v) => (typeof v === 'number' && v < min ? `must be at least ${min}` : undefined);
}

export function between(min: number, max: number): (v: ConfigValue) => string | undefined {
  return (v) =>
    typeof v === 'number' && (v < min || v > max) ? `must be between ${min} and ${max}` : undefined;
}

/** Renders a value the way Kafka's DescribeConfigs shows it. */
export function formatConfigValue(value: ConfigValue): string | null {
  if (value === null) return null;
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}
