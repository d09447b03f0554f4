/**
 * IAM-style glob: `*` matches any run of characters (including `/`), `?` exactly one; everything
 * else is literal. Compiled regexes are cached since the same policies are evaluated repeatedly.
 */
const compiled = new Map<string, RegExp>();

export function globMatches(pattern: string, value: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 's');
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re.test(value);
}
