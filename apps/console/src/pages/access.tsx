import { useState } from 'preact/hooks';
import { api } from '../api';
import { useAttempt } from '../components/attempt';
import { CopyButton } from '../components/copy';
import { useLoad } from '../components/load';
import { ProblemBox } from '../components/problem';
import { SharingPanels } from './sharing';

interface SubAccount {
  id: string;
  name: string;
  policyIds: string[];
}
interface Policy {
  id: string;
  name: string;
  effect: 'allow' | 'deny';
  actions: string[];
  resources: string[];
}
interface ApiKey {
  id: string;
  subAccountId: string | null;
  description: string | null;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
const lines = (s: string) =>
  s
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);

/** Who may do what in the account: sub-accounts, their policies and API keys (a root account's view). */
export function AccessPage() {
  const subs = useLoad(() => api.get<Page<SubAccount>>('/v1/sub-accounts?limit=100'), []);
  const policies = useLoad(() => api.get<Page<Policy>>('/v1/policies?limit=100'), []);
  const keys = useLoad(() => api.get<Page<ApiKey>>('/v1/api-keys?limit=100'), []);
  const { error, attempt } = useAttempt();
  const [subName, setSubName] = useState('');
  const [policy, setPolicy] = useState({ name: '', effect: 'allow', actions: '', resources: 'instance/*' });
  const [keyFor, setKeyFor] = useState('');
  const [keyDescription, setKeyDescription] = useState('');
  const [secret, setSecret] = useState<{ id: string; secret: string }>();
  const [attach, setAttach] = useState({ sub: '', policy: '' });
  return (
    <section aria-labelledby="access-title">
      <h1 id="access-title">Access</h1>
      <ProblemBox error={error} />
      <div class="grid">
        <section class="panel" aria-labelledby="subs-title">
          <h2 id="subs-title">Sub-accounts</h2>
          <ProblemBox error={subs.error} />
          <ul>
            {subs.data?.items.map((s) => (
              <li key={s.id}>
                {s.name} <code>{s.id}</code>:{' '}
                {s.policyIds.map((p) => policies.data?.items.find((x) => x.id === p)?.name ?? p).join(', ') ||
                  'no policies'}
              </li>
            ))}
          </ul>
          <form
            aria-label="Create sub-account"
            onSubmit={(e) => {
              e.preventDefault();
              void attempt(() => api.call('POST', '/v1/sub-accounts', { name: subName }), subs.reload);
            }}
          >
            <label>
              Sub-account name
              <input value={subName} onInput={(e) => setSubName(e.currentTarget.value)} required />
            </label>
            <button type="submit">Create sub-account</button>
          </form>
          <form
            aria-label="Attach policy"
            onSubmit={(e) => {
              e.preventDefault();
              void attempt(
                () => api.call('PUT', `/v1/sub-accounts/${attach.sub}/policies/${attach.policy}`),
                subs.reload,
              );
            }}
          >
            <label>
              Sub-account
              <select
                value={attach.sub}
                onChange={(e) => setAttach({ ...attach, sub: e.currentTarget.value })}
                required
              >
                <option value="">choose…</option>
                {subs.data?.items.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Policy
              <select
                value={attach.policy}
                onChange={(e) => setAttach({ ...attach, policy: e.currentTarget.value })}
                required
              >
                <option value="">choose…</option>
                {policies.data?.items.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Attach policy</button>
          </form>
        </section>
        <section class="panel" aria-labelledby="policies-title">
          <h2 id="policies-title">Policies</h2>
          <ProblemBox error={policies.error} />
          <ul>
            {policies.data?.items.map((p) => (
              <li key={p.id}>
                <strong>{p.name}</strong> {p.effect} <code>{p.actions.join(', ')}</code> on{' '}
                <code>{p.resources.join(', ')}</code>
              </li>
            ))}
          </ul>
          <form
            aria-label="Create policy"
            onSubmit={(e) => {
              e.preventDefault();
              void attempt(
                () =>
                  api.call('POST', '/v1/policies', {
                    name: policy.name,
                    effect: policy.effect,
                    actions: lines(policy.actions),
                    resources: lines(policy.resources),
                  }),
                policies.reload,
              );
            }}
          >
            <label>
              Policy name
              <input
                value={policy.name}
                onInput={(e) => setPolicy({ ...policy, name: e.currentTarget.value })}
                required
              />
            </label>
            <label>
              Effect
              <select
                value={policy.effect}
                onChange={(e) => setPolicy({ ...policy, effect: e.currentTarget.value })}
              >
                <option>allow</option>
                <option>deny</option>
              </select>
            </label>
            <label>
              Actions (comma or one a line; catalogue at /v1/actions)
              <textarea
                rows={2}
                value={policy.actions}
                placeholder="kafka:DescribeInstance, kafka:*Topic*"
                onInput={(e) => setPolicy({ ...policy, actions: e.currentTarget.value })}
              />
            </label>
            <label>
              Resources
              <textarea
                rows={2}
                value={policy.resources}
                onInput={(e) => setPolicy({ ...policy, resources: e.currentTarget.value })}
              />
            </label>
            <button type="submit">Create policy</button>
          </form>
        </section>
        <section class="panel" aria-labelledby="keys-title">
          <h2 id="keys-title">API keys</h2>
          <ProblemBox error={keys.error} />
          <ul>
            {keys.data?.items.map((k) => (
              <li key={k.id}>
                <code>{k.id}</code> {k.subAccountId ? `for ${k.subAccountId}` : 'root'} {k.description ?? ''}{' '}
                <button
                  type="button"
                  class="danger"
                  onClick={() => void attempt(() => api.call('DELETE', `/v1/api-keys/${k.id}`), keys.reload)}
                >
                  Revoke {k.id}
                </button>
              </li>
            ))}
          </ul>
          <form
            aria-label="Create API key"
            onSubmit={(e) => {
              e.preventDefault();
              void attempt(async () => {
                const k = await api.call<{ id: string; secret: string }>('POST', '/v1/api-keys', {
                  ...(keyFor ? { subAccountId: keyFor } : {}),
                  ...(keyDescription ? { description: keyDescription } : {}),
                });
                setSecret({ id: k.id, secret: k.secret });
              }, keys.reload);
            }}
          >
            <label>
              For
              <select value={keyFor} onChange={(e) => setKeyFor(e.currentTarget.value)}>
                <option value="">the root account</option>
                {subs.data?.items.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Description
              <input value={keyDescription} onInput={(e) => setKeyDescription(e.currentTarget.value)} />
            </label>
            <button type="submit">Create API key</button>
          </form>
          {secret ? (
            <p role="status">
              Key <code>{secret.id}</code>, secret <code>{secret.secret}</code> (shown once){' '}
              <CopyButton text={secret.secret} label="Copy the secret" />
            </p>
          ) : null}
        </section>
        <SharingPanels />
      </div>
    </section>
  );
}
