import { useEffect, useState } from 'preact/hooks';
import { api } from './api';
import { AccessPage } from './pages/access';
import { AuditPage } from './pages/audit';
import { InstanceDetail } from './pages/instance';
import { InstancesPage } from './pages/instances';
import { OperationsPage } from './pages/operations';
import { SignIn } from './pages/signIn';
import { href, useRoute } from './route';

const NAV: [string, string][] = [
  ['instances', 'Instances'],
  ['operations', 'Operations'],
  ['access', 'Access'],
  ['audit', 'Audit log'],
];

export function App() {
  const [session, setSession] = useState(api.current);
  const [notice, setNotice] = useState<string | undefined>();
  useEffect(
    () =>
      api.onChange((s, reason) => {
        setSession(s);
        if (reason) setNotice(reason);
      }),
    [],
  );
  const route = useRoute();
  if (!session) return <SignIn notice={notice} />;
  const [page = 'instances', ...rest] = route;
  return (
    <>
      <header>
        <a class="brand" href={href('instances')}>
          Fjord
        </a>
        <nav aria-label="Main">
          {NAV.map(([p, label]) => (
            <a key={p} href={href(p)} aria-current={page === p ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who">{session.keyId}</span>
        <button type="button" onClick={() => api.signOut()}>
          Sign out
        </button>
      </header>
      <main>
        {page === 'instances' && rest[0] ? (
          <InstanceDetail id={rest[0]} tab={rest[1] ?? 'overview'} sub={rest[2]} />
        ) : page === 'instances' ? (
          <InstancesPage />
        ) : page === 'operations' ? (
          <OperationsPage id={rest[0]} />
        ) : page === 'access' ? (
          <AccessPage />
        ) : page === 'audit' ? (
          <AuditPage />
        ) : (
          <p>No page {page}.</p>
        )}
      </main>
    </>
  );
}
