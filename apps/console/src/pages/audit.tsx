import { useState } from 'preact/hooks';
import { api, query } from '../api';
import { useLoad } from '../components/load';
import { ProblemBox } from '../components/problem';

interface AuditEvent {
  id: string;
  actor: string;
  action: string;
  resource: string;
  outcome: string;
  at: string;
  details: Record<string, unknown>;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function AuditPage() {
  const [cursor, setCursor] = useState<string>();
  const page = useLoad(
    () => api.get<Page<AuditEvent>>(`/v1/audit-events${query({ limit: 50, cursor })}`),
    [cursor],
  );
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <ProblemBox error={page.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">At</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Resource</th>
            <th scope="col">Outcome</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {page.data?.items.map((e) => (
            <tr key={e.id}>
              <td>{e.id}</td>
              <td>{e.at}</td>
              <td>{e.actor}</td>
              <td>{e.action}</td>
              <td>
                <code>{e.resource}</code>
              </td>
              <td class={`outcome-${e.outcome}`}>{e.outcome}</td>
              <td>
                <code>{JSON.stringify(e.details)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {page.data?.nextCursor ? (
        <button type="button" onClick={() => setCursor(page.data?.nextCursor ?? undefined)}>
          Older events
        </button>
      ) : null}
    </section>
  );
}
