import { ApiProblem } from '../problem.js';

export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * If-Match, when given, must name the current version (or `*`); otherwise 412. The comparison is
 * strong (RFC 9110 §13.1.1): a weak tag `W/"5"` never matches, as it promises no exact version.
 */
export function checkIfMatch(header: string | undefined, version: number): void {
  if (header === undefined) return;
  const tags = header.split(',').map((t) => t.trim());
  if (tags.includes('*') || tags.includes(etagOf(version))) return;
  throw new ApiProblem(
    'precondition_failed',
    `If-Match ${header} does not match the current ETag ${etagOf(version)}`,
  );
}
