/**
 * Which source topics a mirror copies, or which groups' offsets it translates (pure): names
 * matching an include pattern and no exclude pattern, each a regular expression over the whole
 * name. Internal names (`__…`) never.
 */
export function selectNames(
  names: readonly string[],
  include: readonly string[],
  exclude: readonly string[],
): string[] {
  const whole = (patterns: readonly string[]) => patterns.map((p) => new RegExp(`^(?:${p})$`));
  const inc = whole(include);
  const exc = whole(exclude);
  return names
    .filter((n) => !n.startsWith('__'))
    .filter((n) => inc.some((r) => r.test(n)) && !exc.some((r) => r.test(n)))
    .sort();
}
