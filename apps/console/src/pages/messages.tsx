import type { Topic } from '@fjord/contracts';
import { useState } from 'preact/hooks';
import { api, query } from '../api';
import { ProblemBox } from '../components/problem';

interface Message {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}
interface MessagePage {
  messages: Message[];
  nextOffset: number;
  highWatermark: number;
}

/** Browse a partition from an offset, a time or its end; produce a test message. */
export function MessagesPanel({ instanceId, topic }: { instanceId: string; topic: Topic }) {
  const base = `/v1/instances/${instanceId}/topics/${encodeURIComponent(topic.name)}`;
  const [partition, setPartition] = useState('0');
  const [from, setFrom] = useState<'latest' | 'offset' | 'timestamp'>('latest');
  const [offset, setOffset] = useState('0');
  const [time, setTime] = useState('');
  const [page, setPage] = useState<MessagePage>();
  const [error, setError] = useState<unknown>();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [produced, setProduced] = useState<string>();
  const browse = async (q: Record<string, string | number | undefined>) => {
    setError(undefined);
    try {
      setPage(
        await api.get<MessagePage>(`${base}/partitions/${partition}/messages${query({ limit: 20, ...q })}`),
      );
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="panel wide" aria-labelledby="messages-title">
      <h2 id="messages-title">Messages</h2>
      <form
        aria-label="Browse messages"
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void browse(
            from === 'latest'
              ? { latest: 20 }
              : from === 'offset'
                ? { offset: Number(offset) }
                : { timestamp: time ? new Date(time).getTime() : 0 },
          );
        }}
      >
        <label>
          Partition
          <select value={partition} onChange={(e) => setPartition(e.currentTarget.value)}>
            {Array.from({ length: topic.partitions }, (_, p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <select value={from} onChange={(e) => setFrom(e.currentTarget.value as typeof from)}>
            <option value="latest">the last 20</option>
            <option value="offset">an offset</option>
            <option value="timestamp">a time</option>
          </select>
        </label>
        {from === 'offset' ? (
          <label>
            Offset
            <input type="number" min={0} value={offset} onInput={(e) => setOffset(e.currentTarget.value)} />
          </label>
        ) : null}
        {from === 'timestamp' ? (
          <label>
            Time
            <input type="datetime-local" value={time} onInput={(e) => setTime(e.currentTarget.value)} />
          </label>
        ) : null}
        <button type="submit">Browse</button>
      </form>
      <ProblemBox error={error} />
      {page ? (
        <>
          <p>
            High watermark {page.highWatermark}; next offset {page.nextOffset}.{' '}
            {page.nextOffset < page.highWatermark ? (
              <button type="button" onClick={() => void browse({ offset: page.nextOffset })}>
                Next page
              </button>
            ) : null}
          </p>
          <table aria-label="Messages">
            <thead>
              <tr>
                <th scope="col">Offset</th>
                <th scope="col">Time</th>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
                <th scope="col">Headers</th>
              </tr>
            </thead>
            <tbody>
              {page.messages.map((m) => (
                <tr key={m.offset}>
                  <td>{m.offset}</td>
                  <td>{new Date(m.timestamp).toISOString()}</td>
                  <td>
                    <code>{m.key ?? '∅'}</code>
                  </td>
                  <td class="value">
                    <code>{m.value ?? '∅'}</code>
                  </td>
                  <td>
                    <code>
                      {Object.entries(m.headers)
                        .map(([k, v]) => `${k}=${v}`)
                        .join(', ')}
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.messages.length === 0 ? <p>No messages there.</p> : null}
        </>
      ) : null}
      <form
        aria-label="Produce a test message"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          setProduced(undefined);
          try {
            const r = await api.call<{ partition: number; offset: number }>('POST', `${base}/messages`, {
              partition: Number(partition),
              ...(key ? { key } : {}),
              value,
            });
            setProduced(`Produced to partition ${r.partition} at offset ${r.offset}.`);
          } catch (err) {
            setError(err);
          }
        }}
      >
        <h3>Produce a test message (partition {partition})</h3>
        <label>
          Key
          <input value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <label>
          Value
          <textarea rows={2} value={value} onInput={(e) => setValue(e.currentTarget.value)} required />
        </label>
        <button type="submit">Produce</button>
        {produced ? <p role="status">{produced}</p> : null}
      </form>
    </section>
  );
}
