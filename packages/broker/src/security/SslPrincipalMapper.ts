const RULE_PATTERN = String.raw`(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)`;

export class SslPrincipalMappingError extends Error {}

interface Rule {
  readonly pattern?: RegExp;
  readonly replacement?: string;
  readonly lower: boolean;
  readonly upper: boolean;
}

/**
 * `ssl.principal.mapping.rules`, as Kafka's SslPrincipalMapper: comma-separated
 * `RULE:pattern/replacement/[LU]` entries tried in order against the client certificate's
 * distinguished name (the whole DN must match), and `DEFAULT`, which keeps the DN as it is.
 * A DN no rule matches is refused.
 */
export class SslPrincipalMapper {
  private readonly rules: Rule[];

  constructor(rules = 'DEFAULT') {
    this.rules = [];
    const splitter = new RegExp(String.raw`\s*(${RULE_PATTERN})\s*(,\s*|$)`, 'g');
    const text = rules.trim();
    const parts: string[] = [];
    for (const m of text.matchAll(splitter)) {
      if (m[0] === '' && m.index! >= text.length) break;
      parts.push(m[1]!);
    }
    for (const part of parts) {
      const m = new RegExp(`^(?:${RULE_PATTERN})`).exec(part);
      if (!m || m[0].length !== part.length) throw new SslPrincipalMappingError(`Invalid rule: ${part}`);
      if (m[1] !== undefined) this.rules.push({ lower: false, upper: false });
      else if (m[2] !== undefined) {
        let pattern: RegExp;
        try {
          pattern = new RegExp(`^(?:${m[2]})$`);
        } catch (e) {
          throw new SslPrincipalMappingError(`Invalid rule: ${part}: ${(e as Error).message}`);
        }
        this.rules.push({ pattern, replacement: m[4]!, lower: m[6] === 'L', upper: m[6] === 'U' });
      }
    }
  }

  /** The principal name for a DN. Throws SslPrincipalMappingError when no rule applies. */
  name(distinguishedName: string): string {
    for (const r of this.rules) {
      if (!r.pattern) return distinguishedName;
      if (!r.pattern.test(distinguishedName)) continue;
      const out = distinguishedName.replace(r.pattern, r.replacement!);
      return r.lower ? out.toLowerCase() : r.upper ? out.toUpperCase() : out;
    }
    throw new SslPrincipalMappingError(`No rules apply to ${distinguishedName}`);
  }
}
