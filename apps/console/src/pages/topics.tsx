import type { Operation, Topic } from '@fjord/contracts';
import { useState } from 'preact/hooks';
import { api, query } from '../api';
import { ConfirmButton } from '../components/confirm';
import { useLoad } from '../components/load';
import { OperationProgress } from '../components/operation';
import { ProblemBox } from '../components/problem';
import { go, href } from '../route';
import { MessagesPanel } from './messages';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
type Accepted = { topic: Topic; operation: Operation };

/** `a=1` lines to a config map; blank lines skipped. */
export function parseConfigs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    out[eq < 0 ? t : t.slice(0, eq).trim()] = eq < 0 ? '' : t.slice(eq + 1).trim();
  }
  return out;
}
const configText = (c: Record<string, string>) =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');

export function TopicsTab({ instanceId, topic }: { instanceId: string; topic: string | undefined }) {
  if (topic) return <TopicDetail instanceId={instanceId} name={topic} />;
  return <TopicList instanceId={instanceId} />;
}

function TopicList({ instanceId }: { instanceId: string }) {
  const [prefix, setPrefix] = useState('');
  const list = useLoad(
    () => api.get<Page<Topic>>(`/v1/instances/${instanceId}/topics${query({ limit: 100, prefix })}`),
    [instanceId, prefix],
    5000,
  );
  const [name, setName] = useState('');
  const [partitions, setPartitions] = useState('3');
  const [rf, setRf] = useState('');
  const [configs, setConfigs] = useState('');
  const [error, setError] = useState<unknown>();
  const [op, setOp] = useState<string>();
  return (
    <div class="grid">
      <section aria-labelledby="topics-title" class="panel wide">
        <h2 id="topics-title">Topics</h2>
        <label>
          Search by prefix
          <input type="search" value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} />
        </label>
        <ProblemBox error={list.error} />
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Partitions</th>
              <th scope="col">Replication</th>
              <th scope="col">Status</th>
              <th scope="col">Configs</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((t) => (
              <tr key={t.name}>
                <td>
                  <a href={href('instances', instanceId, 'topics', t.name)}>{t.name}</a>
                </td>
                <td>{t.partitions}</td>
                <td>{t.replicationFactor}</td>
                <td>{t.status}</td>
                <td>
                  <code>{configText(t.configs).replaceAll('\n', ', ')}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data && list.data.items.length === 0 ? <p>No topics.</p> : null}
      </section>
      <form
        class="panel"
        aria-label="Create topic"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          try {
            const a = await api.call<Accepted>('POST', `/v1/instances/${instanceId}/topics`, {
              name,
              partitions: Number(partitions),
              ...(rf ? { replicationFactor: Number(rf) } : {}),
              configs: parseConfigs(configs),
            });
            setOp(a.operation.id);
          } catch (err) {
            setError(err);
          }
        }}
      >
        <h2>Create topic</h2>
        <label>
          Topic name
          <input name="topic" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </label>
        <label>
          Partitions
          <input
            type="number"
            min={1}
            value={partitions}
            onInput={(e) => setPartitions(e.currentTarget.value)}
          />
        </label>
        <label>
          Replication factor (empty: the instance's default)
          <input type="number" min={1} max={3} value={rf} onInput={(e) => setRf(e.currentTarget.value)} />
        </label>
        <label>
          Configs (one key=value a line)
          <textarea
            rows={3}
            value={configs}
            placeholder="retention.ms=86400000"
            onInput={(e) => setConfigs(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Create topic</button>
        <ProblemBox error={error} />
        {op ? <OperationProgress id={op} onDone={() => list.reload()} /> : null}
      </form>
    </div>
  );
}

function TopicDetail({ instanceId, name }: { instanceId: string; name: string }) {
  const path = `/v1/instances/${instanceId}/topics/${encodeURIComponent(name)}`;
  const t = useLoad(() => api.get<Topic>(path), [path]);
  const [configs, setConfigs] = useState<string>();
  const [partitions, setPartitions] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [op, setOp] = useState<string>();
  const topic = t.data;
  const patch = async (body: unknown) => {
    setError(undefined);
    try {
      const r = await api.call<Topic | Accepted>('PATCH', path, body);
      if ('operation' in r) setOp(r.operation.id);
      else t.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div>
      <p>
        <a href={href('instances', instanceId, 'topics')}>Topics</a> / {name}
      </p>
      <ProblemBox error={t.error} />
      {topic ? (
        <div class="grid">
          <section class="panel" aria-labelledby="topic-title">
            <h2 id="topic-title">{topic.name}</h2>
            <p>
              {topic.partitions} partitions, replication factor {topic.replicationFactor}, {topic.status}
            </p>
            <form
              aria-label="Edit configs"
              onSubmit={(e) => {
                e.preventDefault();
                void patch({ configs: parseConfigs(configs ?? configText(topic.configs)) });
              }}
            >
              <label>
                Configs (one key=value a line)
                <textarea
                  rows={4}
                  value={configs ?? configText(topic.configs)}
                  onInput={(e) => setConfigs(e.currentTarget.value)}
                />
              </label>
              <button type="submit">Save configs</button>
            </form>
            <form
              aria-label="Add partitions"
              onSubmit={(e) => {
                e.preventDefault();
                void patch({ partitions: Number(partitions ?? topic.partitions) });
              }}
            >
              <label>
                Partitions (may only grow)
                <input
                  type="number"
                  min={topic.partitions}
                  value={partitions ?? topic.partitions}
                  onInput={(e) => setPartitions(e.currentTarget.value)}
                />
              </label>
              <button type="submit">Add partitions</button>
            </form>
            <ConfirmButton
              label="Delete"
              what="topic"
              name={topic.name}
              onConfirm={async () => {
                try {
                  const a = await api.call<Accepted>('DELETE', path);
                  setOp(a.operation.id);
                } catch (err) {
                  setError(err);
                }
              }}
            />
            <ProblemBox error={error} />
            {op ? (
              <OperationProgress
                id={op}
                onDone={(o) =>
                  o.kind === 'topic.delete' ? go('instances', instanceId, 'topics') : t.reload()
                }
              />
            ) : null}
          </section>
          <MessagesPanel instanceId={instanceId} topic={topic} />
        </div>
      ) : null}
    </div>
  );
}
