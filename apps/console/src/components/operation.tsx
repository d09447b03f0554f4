import type { Operation } from '@fjord/contracts';
import { useEffect } from 'preact/hooks';
import { api } from '../api';
import { useLoad } from './load';
import { ProblemBox } from './problem';

const finished = (o: Operation | undefined) => o?.status === 'succeeded' || o?.status === 'failed';

/** Live progress of an operation: polled until it finishes, then `onDone` once. */
export function OperationProgress({ id, onDone }: { id: string; onDone?: (o: Operation) => void }) {
  const op = useLoad(() => api.get<Operation>(`/v1/operations/${id}`), [id], 1000);
  const o = op.data;
  const done = finished(o);
  useEffect(() => {
    if (o && done) onDone?.(o);
  }, [done, o?.id]);
  if (!o) return <ProblemBox error={op.error} />;
  const steps = Object.entries(o.progress);
  return (
    <div class={`operation op-${o.status}`} role="status" aria-live="polite">
      <span>
        <a href={`#/operations/${o.id}`}>{o.kind}</a> <strong class="op-status">{o.status}</strong>
      </span>
      {steps.length ? (
        <ol class="steps">
          {steps.map(([step, value]) => (
            <li key={step}>
              {step}
              {typeof value === 'string' || typeof value === 'number' ? `: ${value}` : ''}
            </li>
          ))}
        </ol>
      ) : null}
      {o.error ? (
        <p class="problem">
          <code>{o.error.code}</code> {o.error.message}
        </p>
      ) : null}
    </div>
  );
}
