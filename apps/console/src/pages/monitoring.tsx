import type { MetricQueryResult } from '@fjord/contracts';
import { useState } from 'preact/hooks';
import { api, query } from '../api';
import { TimeChart } from '../components/chart';
import { useLoad } from '../components/load';
import { ProblemBox } from '../components/problem';

interface CatalogueEntry {
  name: string;
  level: 'instance' | 'topic' | 'group' | 'partition';
  unit: string;
  description: string;
  filters: ('topic' | 'group' | 'partition')[];
}

const RANGES: [string, number][] = [
  ['15 minutes', 15 * 60],
  ['1 hour', 3600],
  ['6 hours', 6 * 3600],
  ['24 hours', 24 * 3600],
  ['7 days', 7 * 24 * 3600],
];

export function MonitoringTab({ instanceId }: { instanceId: string }) {
  const catalogue = useLoad(() => api.get<{ items: CatalogueEntry[] }>('/v1/monitoring/metrics'), []);
  const [level, setLevel] = useState<CatalogueEntry['level']>('instance');
  const [range, setRange] = useState(3600);
  const [topic, setTopic] = useState('');
  const [group, setGroup] = useState('');
  const [partition, setPartition] = useState('');
  const metrics = catalogue.data?.items.filter((m) => m.level === level) ?? [];
  return (
    <section aria-labelledby="monitoring-title">
      <h2 id="monitoring-title">Monitoring</h2>
      <form class="row" aria-label="Chart settings" onSubmit={(e) => e.preventDefault()}>
        <label>
          Level
          <select value={level} onChange={(e) => setLevel(e.currentTarget.value as CatalogueEntry['level'])}>
            <option value="instance">instance</option>
            <option value="topic">topic</option>
            <option value="group">consumer group</option>
            <option value="partition">partition</option>
          </select>
        </label>
        <label>
          Time range
          <select value={range} onChange={(e) => setRange(Number(e.currentTarget.value))}>
            {RANGES.map(([label, s]) => (
              <option key={s} value={s}>
                last {label}
              </option>
            ))}
          </select>
        </label>
        {level !== 'instance' && level !== 'group' ? (
          <label>
            Topic
            <input
              value={topic}
              onChange={(e) => setTopic(e.currentTarget.value)}
              placeholder="every topic"
            />
          </label>
        ) : null}
        {level === 'group' || level === 'partition' ? (
          <label>
            Group
            <input
              value={group}
              onChange={(e) => setGroup(e.currentTarget.value)}
              placeholder="every group"
            />
          </label>
        ) : null}
        {level === 'partition' ? (
          <label>
            Partition
            <input
              type="number"
              min={0}
              value={partition}
              onChange={(e) => setPartition(e.currentTarget.value)}
            />
          </label>
        ) : null}
      </form>
      <ProblemBox error={catalogue.error} />
      {metrics.map((m) => (
        <MetricChart
          key={m.name}
          instanceId={instanceId}
          metric={m}
          range={range}
          scope={{
            ...(m.filters.includes('topic') && topic ? { topic } : {}),
            ...(m.filters.includes('group') && group ? { group } : {}),
            ...(m.filters.includes('partition') && partition !== '' ? { partition } : {}),
          }}
        />
      ))}
    </section>
  );
}

function MetricChart(props: {
  instanceId: string;
  metric: CatalogueEntry;
  range: number;
  scope: Record<string, string>;
}) {
  const { instanceId, metric, range, scope } = props;
  const key = JSON.stringify(scope);
  const r = useLoad(
    () => {
      const to = new Date();
      const from = new Date(to.getTime() - range * 1000);
      return api.get<MetricQueryResult>(
        `/v1/instances/${instanceId}/metrics/${metric.name}${query({ from: from.toISOString(), to: to.toISOString(), ...scope })}`,
      );
    },
    [instanceId, metric.name, range, key],
    30_000,
  );
  const series =
    r.data?.series.map((s) => ({
      label:
        Object.entries(s.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || metric.name,
      points: s.points,
    })) ?? [];
  return (
    <figure class="panel">
      <figcaption>
        <strong>{metric.name}</strong> <small>{metric.description}</small>
      </figcaption>
      <ProblemBox error={r.error} />
      {r.data && series.length === 0 ? <p>No data in this range.</p> : null}
      {series.length ? <TimeChart title={metric.name} unit={metric.unit} series={series} /> : null}
    </figure>
  );
}
