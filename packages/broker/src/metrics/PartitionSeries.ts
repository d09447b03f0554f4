import type { MetadataImage } from '@fjord/metadata';
import type { GroupCoordinator } from '../group/GroupCoordinator.js';
import type { Partition } from '../replica/Partition.js';
import type { ReplicaManager } from '../replica/ReplicaManager.js';
import type { RemoteLogEnds } from './RemoteLogEnds.js';
import { tpKey } from './RemoteLogEnds.js';

export interface PartitionSeriesSources {
  readonly replicas: ReplicaManager;
  readonly groups: GroupCoordinator;
  readonly partitionSeriesMax: number;
  readonly remoteEnds?: RemoteLogEnds;
  readonly image: () => MetadataImage;
}

const LOG_FAMILIES: readonly [name: string, help: string, value: (p: Partition) => number][] = [
  ['kafka_log_log_size', 'Bytes in the partition log', (p) => p.log.sizeInBytes],
  ['kafka_log_log_logstartoffset', 'First offset in the log', (p) => p.log.logStartOffset],
  ['kafka_log_log_logendoffset', 'Offset the next record gets', (p) => p.log.logEndOffset],
];

/** Label values escaped as the text format wants (backslash, quote, newline). */
const escapeLabel = (v: string) =>
  /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;

/**
 * The per-partition families (log size and offsets per hosted partition; kafka-exporter's consumer
 * offsets and lag per group partition), written as Prometheus text directly. They are most of a
 * big broker's samples: rendered through prom-client's registry they cost ~1.5 µs per sample in
 * label formatting; here each partition's label text is built once and kept.
 */
export class PartitionSeries {
  private readonly labelText = new WeakMap<Partition, string>();

  constructor(private readonly s: PartitionSeriesSources) {}

  /** Hosted online partitions that get series, up to the cap (offline logs cannot be read). */
  private hosted(): Partition[] {
    const out: Partition[] = [];
    if (this.s.partitionSeriesMax === 0) return out;
    for (const p of this.s.replicas.all()) {
      if (p.offline) continue;
      out.push(p);
      if (out.length >= this.s.partitionSeriesMax) break;
    }
    return out;
  }

  private labelsOf(p: Partition): string {
    let l = this.labelText.get(p);
    if (l === undefined) {
      l = `topic="${escapeLabel(p.topic)}",partition="${p.partition}"`;
      this.labelText.set(p, l);
    }
    return l;
  }

  async render(): Promise<string> {
    const out: string[] = [];
    const hosted = this.hosted();
    for (const [name, help, value] of LOG_FAMILIES) {
      out.push(`# HELP ${name} ${help}\n# TYPE ${name} gauge\n`);
      for (const p of hosted) out.push(`${name}{${this.labelsOf(p)}} ${value(p)}\n`);
    }
    await this.renderGroups(out);
    return out.join('');
  }

  /**
   * kafka-exporter's consumer offsets and lag, reported by each group's coordinator only (it holds
   * the committed offsets), so series are not duplicated across brokers. The end is the high
   * watermark: of the local replica where this broker hosts the partition (exact where it leads,
   * at most one replication round behind where it follows), else asked of the leader with
   * ListOffsets during the scrape (lag left out for leaders that do not answer within 2 s).
   */
  private async renderGroups(out: string[]): Promise<void> {
    const s = this.s;
    const rows: { groupId: string; topic: string; partition: number; offset: bigint }[] = [];
    for (const o of s.groups.committedOffsets()) {
      if (rows.length >= s.partitionSeriesMax) break;
      rows.push(o);
    }
    const localEnd = (o: { topic: string; partition: number }) => {
      const p = s.replicas.get(o.topic, o.partition);
      return p && !p.offline ? p.highWatermark : undefined;
    };
    const elsewhere = rows.filter((o) => localEnd(o) === undefined);
    const remote =
      elsewhere.length > 0 && s.remoteEnds
        ? await s.remoteEnds.highWatermarks(s.image(), elsewhere)
        : new Map<string, number>();
    const labels = rows.map(
      (o) => `group="${escapeLabel(o.groupId)}",topic="${escapeLabel(o.topic)}",partition="${o.partition}"`,
    );
    const current = 'kafka_consumergroup_current_offset';
    out.push(`# HELP ${current} Committed offset per group partition (on the group coordinator)\n`);
    out.push(`# TYPE ${current} gauge\n`);
    rows.forEach((o, i) => {
      out.push(`${current}{${labels[i]}} ${o.offset}\n`);
    });
    const lag = 'kafka_consumergroup_lag';
    out.push(
      `# HELP ${lag} High watermark minus the committed offset, per group partition (on the group coordinator)\n`,
    );
    out.push(`# TYPE ${lag} gauge\n`);
    rows.forEach((o, i) => {
      const end = localEnd(o) ?? remote.get(tpKey(o.topic, o.partition));
      if (end !== undefined) out.push(`${lag}{${labels[i]}} ${Math.max(0, end - Number(o.offset))}\n`);
    });
  }
}
