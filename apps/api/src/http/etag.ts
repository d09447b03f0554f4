import { ApiProblem } from '../problem.js';

export function etagOf(version: number): string {
  return `"${version}"`;
}

/** If-Match, when given, must name the current version (or `*`); otherwise 412. */
export function checkIfMatch(header: string | undefined, version: number): void {
  if (header === undefined) return;
  const tags = header.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (tags.includes('*') || tags.includes(etagOf(version))) return;
  throw new ApiProblem(
    'precondition_failed',
    `If-Match ${header} does not match the current ETag ${etagOf(version)}`,
  );
}
