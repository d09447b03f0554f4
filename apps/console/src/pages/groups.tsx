import type { Operation } from '@fjord/contracts';
import { useState } from 'preact/hooks';
import { api, query } from '../api';
import { useLoad } from '../components/load';
import { OperationProgress } from '../components/operation';
import { ProblemBox } from '../components/problem';
import { href } from '../route';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface GroupSummary {
  groupId: string;
  protocolType: string;
}
interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: number | null;
  endOffset: number;
  lag: number | null;
}
interface Group {
  groupId: string;
  state: string;
  protocol: string;
  members: { memberId: string; clientId: string; clientHost: string; assignments: string[] }[];
  lag: PartitionLag[];
}
type ResetTo = 'earliest' | 'latest' | 'timestamp' | 'offset';

export function GroupsTab({ instanceId, group }: { instanceId: string; group: string | undefined }) {
  if (group) return <GroupDetail instanceId={instanceId} groupId={group} />;
  return <GroupList instanceId={instanceId} />;
}

function GroupList({ instanceId }: { instanceId: string }) {
  const list = useLoad(
    () => api.get<Page<GroupSummary>>(`/v1/instances/${instanceId}/consumer-groups?limit=100`),
    [instanceId],
    5000,
  );
  return (
    <section class="panel" aria-labelledby="groups-title">
      <h2 id="groups-title">Consumer groups</h2>
      <ProblemBox error={list.error} />
      <ul>
        {list.data?.items.map((g) => (
          <li key={g.groupId}>
            <a href={href('instances', instanceId, 'groups', g.groupId)}>{g.groupId}</a>{' '}
            <small>{g.protocolType}</small>
          </li>
        ))}
      </ul>
      {list.data && list.data.items.length === 0 ? <p>No consumer groups.</p> : null}
    </section>
  );
}

interface MessagePage {
  messages: { offset: number }[];
  nextOffset: number;
  highWatermark: number;
}

/** Where each partition's committed offset would go: read from the partitions through the API. */
async function previewReset(
  instanceId: string,
  rows: PartitionLag[],
  to: ResetTo,
  at: number,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.topic}/${r.partition}`;
    if (to === 'latest') out.set(key, r.endOffset);
    else if (to === 'offset') out.set(key, Math.min(at, r.endOffset));
    else {
      const q = to === 'earliest' ? { offset: 0, limit: 1 } : { timestamp: at, limit: 1 };
      const page = await api.get<MessagePage>(
        `/v1/instances/${instanceId}/topics/${encodeURIComponent(r.topic)}/partitions/${r.partition}/messages${query(q)}`,
      );
      out.set(key, page.messages[0]?.offset ?? page.highWatermark);
    }
  }
  return out;
}

function GroupDetail({ instanceId, groupId }: { instanceId: string; groupId: string }) {
  const g = useLoad(
    () => api.get<Group>(`/v1/instances/${instanceId}/consumer-groups/${encodeURIComponent(groupId)}`),
    [instanceId, groupId],
    5000,
  );
  const [topic, setTopic] = useState('');
  const [to, setTo] = useState<ResetTo>('earliest');
  const [at, setAt] = useState('');
  const [preview, setPreview] = useState<Map<string, number>>();
  const [error, setError] = useState<unknown>();
  const [op, setOp] = useState<string>();
  const group = g.data;
  const topics = [...new Set(group?.lag.map((l) => l.topic) ?? [])];
  const chosen = topic || topics[0] || '';
  const atNumber = to === 'timestamp' ? new Date(at).getTime() : Number(at);
  return (
    <div>
      <p>
        <a href={href('instances', instanceId, 'groups')}>Consumer groups</a> / {groupId}
      </p>
      <ProblemBox error={g.error} />
      {group ? (
        <div class="grid">
          <section class="panel" aria-labelledby="members-title">
            <h2 id="members-title">
              {group.groupId} <span class="badge">{group.state}</span>
            </h2>
            <h3>Members</h3>
            {group.members.length === 0 ? <p>No members.</p> : null}
            <ul>
              {group.members.map((m) => (
                <li key={m.memberId}>
                  <code>{m.clientId}</code> from {m.clientHost}:{' '}
                  {m.assignments.join(', ') || 'nothing assigned'}
                </li>
              ))}
            </ul>
          </section>
          <section class="panel wide" aria-labelledby="lag-title">
            <h2 id="lag-title">Lag per partition</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">Topic</th>
                  <th scope="col">Partition</th>
                  <th scope="col">Committed</th>
                  <th scope="col">End</th>
                  <th scope="col">Lag</th>
                  {preview ? <th scope="col">After reset</th> : null}
                </tr>
              </thead>
              <tbody>
                {group.lag.map((l) => (
                  <tr key={`${l.topic}/${l.partition}`}>
                    <td>{l.topic}</td>
                    <td>{l.partition}</td>
                    <td>{l.committedOffset ?? '–'}</td>
                    <td>{l.endOffset}</td>
                    <td class="lag">{l.lag ?? '–'}</td>
                    {preview ? <td>{preview.get(`${l.topic}/${l.partition}`) ?? ''}</td> : null}
                  </tr>
                ))}
              </tbody>
            </table>
            <form
              aria-label="Reset offsets"
              class="row"
              onSubmit={async (e) => {
                e.preventDefault();
                setError(undefined);
                try {
                  const a = await api.call<{ operation: Operation }>(
                    'POST',
                    `/v1/instances/${instanceId}/consumer-groups/${encodeURIComponent(groupId)}/reset-offsets`,
                    {
                      topic: chosen,
                      to,
                      ...(to === 'timestamp' ? { timestamp: atNumber } : {}),
                      ...(to === 'offset' ? { offset: atNumber } : {}),
                    },
                  );
                  setOp(a.operation.id);
                } catch (err) {
                  setError(err);
                }
              }}
            >
              <label>
                Topic
                <select value={chosen} onChange={(e) => setTopic(e.currentTarget.value)}>
                  {topics.map((t) => (
                    <option key={t}>{t}</option>
                  ))}
                </select>
              </label>
              <label>
                Reset to
                <select value={to} onChange={(e) => setTo(e.currentTarget.value as ResetTo)}>
                  <option value="earliest">earliest</option>
                  <option value="latest">latest</option>
                  <option value="timestamp">a time</option>
                  <option value="offset">an offset</option>
                </select>
              </label>
              {to === 'timestamp' ? (
                <label>
                  Time
                  <input
                    type="datetime-local"
                    value={at}
                    onInput={(e) => setAt(e.currentTarget.value)}
                    required
                  />
                </label>
              ) : null}
              {to === 'offset' ? (
                <label>
                  Offset
                  <input
                    type="number"
                    min={0}
                    value={at}
                    onInput={(e) => setAt(e.currentTarget.value)}
                    required
                  />
                </label>
              ) : null}
              <button
                type="button"
                onClick={async () => {
                  setError(undefined);
                  try {
                    setPreview(
                      await previewReset(
                        instanceId,
                        group.lag.filter((l) => l.topic === chosen),
                        to,
                        atNumber,
                      ),
                    );
                  } catch (err) {
                    setError(err);
                  }
                }}
              >
                Preview
              </button>
              <button type="submit" disabled={!preview}>
                Reset offsets
              </button>
            </form>
            <p class="hint">The group must have no active members for a reset.</p>
            <ProblemBox error={error} />
            {op ? (
              <OperationProgress
                id={op}
                onDone={() => {
                  setPreview(undefined);
                  g.reload();
                }}
              />
            ) : null}
          </section>
        </div>
      ) : null}
    </div>
  );
}
