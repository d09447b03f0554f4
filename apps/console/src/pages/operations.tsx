import type { Operation } from '@fjord/contracts';
import { api, query } from '../api';
import { useLoad } from '../components/load';
import { OperationProgress } from '../components/operation';
import { ProblemBox } from '../components/problem';
import { href } from '../route';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function OperationsPage({ id }: { id: string | undefined }) {
  return (
    <section aria-labelledby="operations-title">
      <h1 id="operations-title">Operations</h1>
      {id ? <OperationProgress id={id} /> : null}
      <OperationsList />
    </section>
  );
}

export function OperationsList({ instanceId }: { instanceId?: string }) {
  const list = useLoad(
    () => api.get<Page<Operation>>(`/v1/operations${query({ limit: 50, instanceId })}`),
    [instanceId],
    5000,
  );
  return (
    <div class="panel wide">
      <ProblemBox error={list.error} />
      <table aria-label="Operations">
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Target</th>
            <th scope="col">By</th>
            <th scope="col">Started</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((o) => (
            <tr key={o.id}>
              <td>
                <a href={href('operations', o.id)}>{o.kind}</a>
              </td>
              <td class={`op-${o.status}`}>{o.status}</td>
              <td>
                <code>{o.target}</code>
              </td>
              <td>{o.actor}</td>
              <td>{o.createdAt}</td>
              <td>{o.error ? `${o.error.code}: ${o.error.message}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data && list.data.items.length === 0 ? <p>No operations.</p> : null}
    </div>
  );
}
