import type { AlarmEvent, AlarmPolicy } from '@fjord/contracts';
import { useState } from 'preact/hooks';
import { api } from '../api';
import { useLoad } from '../components/load';
import { ProblemBox } from '../components/problem';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function AlarmsTab({ instanceId }: { instanceId: string }) {
  const base = `/v1/instances/${instanceId}`;
  const policies = useLoad(() => api.get<Page<AlarmPolicy>>(`${base}/alarm-policies?limit=100`), [base]);
  const events = useLoad(() => api.get<Page<AlarmEvent>>(`${base}/alarm-events?limit=50`), [base], 10_000);
  const [name, setName] = useState('');
  const [metric, setMetric] = useState('');
  const [comparison, setComparison] = useState('>');
  const [threshold, setThreshold] = useState('0');
  const [duration, setDuration] = useState('60');
  const [severity, setSeverity] = useState('warning');
  const [topic, setTopic] = useState('');
  const [group, setGroup] = useState('');
  const catalogue = useLoad(() => api.get<{ items: { name: string }[] }>('/v1/monitoring/metrics'), []);
  const [error, setError] = useState<unknown>();
  return (
    <div class="grid">
      <section class="panel wide" aria-labelledby="events-title">
        <h2 id="events-title">Alarm events</h2>
        <ProblemBox error={events.error} />
        <table>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Severity</th>
              <th scope="col">Policy</th>
              <th scope="col">About</th>
              <th scope="col">Value</th>
              <th scope="col">Since</th>
              <th scope="col">Until</th>
            </tr>
          </thead>
          <tbody>
            {events.data?.items.map((e) => (
              <tr key={e.id}>
                <td class={`alarm-${e.status}`}>{e.status}</td>
                <td>{e.severity}</td>
                <td>{policies.data?.items.find((p) => p.id === e.policyId)?.name ?? e.policyId}</td>
                <td>
                  {Object.entries(e.labels)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(', ')}
                </td>
                <td>{e.value ?? ''}</td>
                <td>{e.startsAt}</td>
                <td>{e.endsAt ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {events.data && events.data.items.length === 0 ? <p>No alarm events.</p> : null}
      </section>
      <section class="panel wide" aria-labelledby="policies-title">
        <h2 id="policies-title">Alarm policies</h2>
        <ProblemBox error={policies.error} />
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Rule</th>
              <th scope="col">Severity</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {policies.data?.items.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>
                  <code>
                    {p.metric}
                    {Object.keys(p.scope).length
                      ? `{${Object.entries(p.scope)
                          .map(([k, v]) => `${k}=${v}`)
                          .join(',')}}`
                      : ''}{' '}
                    {p.comparison} {p.threshold} for {p.durationSeconds}s
                  </code>
                </td>
                <td>{p.severity}</td>
                <td>
                  {p.enabled ? 'enabled' : 'disabled'}
                  {p.muted ? ', muted' : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form
          aria-label="Create alarm policy"
          class="row"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(undefined);
            try {
              await api.call('POST', `${base}/alarm-policies`, {
                name,
                metric,
                scope: { ...(topic ? { topic } : {}), ...(group ? { group } : {}) },
                comparison,
                threshold: Number(threshold),
                durationSeconds: Number(duration),
                severity,
              });
              policies.reload();
            } catch (err) {
              setError(err);
            }
          }}
        >
          <label>
            Name
            <input value={name} onInput={(e) => setName(e.currentTarget.value)} required />
          </label>
          <label>
            Metric
            <select value={metric} onChange={(e) => setMetric(e.currentTarget.value)} required>
              <option value="">choose…</option>
              {catalogue.data?.items.map((m) => (
                <option key={m.name}>{m.name}</option>
              ))}
            </select>
          </label>
          <label>
            Topic (empty: every one)
            <input value={topic} onInput={(e) => setTopic(e.currentTarget.value)} />
          </label>
          <label>
            Group (empty: every one)
            <input value={group} onInput={(e) => setGroup(e.currentTarget.value)} />
          </label>
          <label>
            Comparison
            <select value={comparison} onChange={(e) => setComparison(e.currentTarget.value)}>
              {['>', '>=', '<', '<=', '==', '!='].map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </label>
          <label>
            Threshold
            <input type="number" value={threshold} onInput={(e) => setThreshold(e.currentTarget.value)} />
          </label>
          <label>
            For (seconds)
            <input type="number" value={duration} onInput={(e) => setDuration(e.currentTarget.value)} />
          </label>
          <label>
            Severity
            <select value={severity} onChange={(e) => setSeverity(e.currentTarget.value)}>
              <option>info</option>
              <option>warning</option>
              <option>critical</option>
            </select>
          </label>
          <button type="submit">Create policy</button>
        </form>
        <ProblemBox error={error} />
      </section>
    </div>
  );
}
