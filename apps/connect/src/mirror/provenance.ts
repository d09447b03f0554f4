import type { SinkRecord } from '../s3/objectLayout.js';

/**
 * The header naming the clusters a mirrored record has been copied from, oldest first (so the first
 * is where it was produced): cluster ids joined by commas. Like Confluent Replicator's provenance
 * header, but a path rather than the origin alone, so that no topology of mirrors (pairs, rings,
 * meshes) can copy a record into a cluster it has already been in.
 */
export const PATH_HEADER = '__fjord.mirror.path';

export interface ProvenanceRule {
  /** The cluster id of the cluster read from. */
  readonly sourceClusterId: string;
  /** The cluster id of the cluster written to: records that have been there are not copied to it again. */
  readonly targetClusterId: string;
  /** Add the source to each copied record's path (the header is added when it has none). */
  readonly stamp: boolean;
}

const isPath = (k: Buffer | null) => k?.toString() === PATH_HEADER;

/**
 * The records of a fetched batch a mirror copies (pure), in order: every record except those whose
 * path names the target (they came from there through other mirrors: copying them back would cycle
 * forever), with the source appended to the path when `stamp` (its other headers unchanged, in order).
 */
export function recordsToCopy(records: readonly SinkRecord[], rule: ProvenanceRule): SinkRecord[] {
  const out: SinkRecord[] = [];
  for (const r of records) {
    const at = r.headers.findIndex(([k]) => isPath(k));
    const path = at < 0 ? [] : (r.headers[at]![1]?.toString() ?? '').split(',');
    if (path.includes(rule.targetClusterId)) continue;
    if (!rule.stamp) {
      out.push(r);
      continue;
    }
    const header = [
      Buffer.from(PATH_HEADER),
      Buffer.from([...path, rule.sourceClusterId].join(',')),
    ] as const;
    const headers = at < 0 ? [...r.headers, header] : r.headers.map((h, i) => (i === at ? header : h));
    out.push({ ...r, headers });
  }
  return out;
}
