import type { SinkRecord } from '../s3/objectLayout.js';

/**
 * The header naming the cluster a mirrored record was first produced on (its cluster id), as
 * Confluent Replicator's provenance header does. A record that already has one keeps it, so the
 * origin survives chains (A → B → C).
 */
export const ORIGIN_HEADER = '__fjord.mirror.origin';

export interface ProvenanceRule {
  /** The cluster id of the cluster read from (the origin of records without the header). */
  readonly sourceClusterId: string;
  /** The cluster id of the cluster written to: records that came from it are not copied back. */
  readonly targetClusterId: string;
  /** Add the header to records that have none. */
  readonly stamp: boolean;
}

const originOf = (r: SinkRecord): string | undefined => {
  const h = r.headers.find(([k]) => k?.toString() === ORIGIN_HEADER);
  return h?.[1]?.toString();
};

/**
 * The records of a fetched batch a mirror copies (pure), in order: every record except those whose
 * origin is the target (they came from there through another mirror: copying them back would cycle
 * forever), each with the origin header added when `stamp` and it has none.
 */
export function recordsToCopy(records: readonly SinkRecord[], rule: ProvenanceRule): SinkRecord[] {
  const out: SinkRecord[] = [];
  for (const r of records) {
    const origin = originOf(r);
    if (origin === rule.targetClusterId) continue;
    if (origin !== undefined || !rule.stamp) out.push(r);
    else
      out.push({
        ...r,
        headers: [...r.headers, [Buffer.from(ORIGIN_HEADER), Buffer.from(rule.sourceClusterId)]],
      });
  }
  return out;
}
