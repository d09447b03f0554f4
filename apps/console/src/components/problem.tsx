import { ApiError } from '../api';

/** An error as the API's problem+json says it: title, detail, code and each field named. */
export function ProblemBox({ error }: { error: unknown }) {
  if (!error) return null;
  if (!(error instanceof ApiError))
    return (
      <div class="problem" role="alert">
        {String(error)}
      </div>
    );
  const p = error.problem;
  return (
    <div class="problem" role="alert">
      <strong>{p.title}</strong> <code>{p.code}</code> {p.status ? <span>({p.status})</span> : null}
      {p.detail ? <p>{p.detail}</p> : null}
      {p.errors?.length ? (
        <ul>
          {p.errors.map((e) => (
            <li key={e.path}>
              <code>{e.path}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      {p.operationId ? (
        <p>
          In the way: <a href={`#/operations/${p.operationId}`}>{p.operationId}</a>
        </p>
      ) : null}
    </div>
  );
}
