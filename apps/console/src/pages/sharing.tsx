import { useState } from 'preact/hooks';
import { api } from '../api';
import { useAttempt } from '../components/attempt';
import { CopyButton } from '../components/copy';
import { useLoad } from '../components/load';
import { ProblemBox } from '../components/problem';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface Grant {
  id: string;
  ownerAccountId: string;
  granteeAccountId: string;
  actions: string[];
  resources: string[];
}
interface Channel {
  id: string;
  name: string;
  url: string;
}
const list = (s: string) =>
  s
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);

function GrantText({ g, other }: { g: Grant; other: string }) {
  return (
    <>
      <code>{other}</code>: <code>{g.actions.join(', ')}</code> on <code>{g.resources.join(', ')}</code>
    </>
  );
}

/** Collaborator grants (given and received) and the webhooks alarm notifications go to. */
export function SharingPanels() {
  const given = useLoad(() => api.get<Page<Grant>>('/v1/grants?direction=given&limit=100'), []);
  const received = useLoad(() => api.get<Page<Grant>>('/v1/grants?direction=received&limit=100'), []);
  const channels = useLoad(() => api.get<Page<Channel>>('/v1/notification-channels?limit=100'), []);
  const [grant, setGrant] = useState({ grantee: '', actions: '', resources: 'instance/*' });
  const [channel, setChannel] = useState({ name: '', url: '' });
  const [secret, setSecret] = useState<string>();
  const { error, attempt } = useAttempt();
  return (
    <>
      <section class="panel" aria-labelledby="grants-title">
        <h2 id="grants-title">Collaborator grants</h2>
        <ProblemBox error={error} />
        <ProblemBox error={given.error} />
        <h3>Given to other accounts</h3>
        <ul>
          {given.data?.items.map((g) => (
            <li key={g.id}>
              <GrantText g={g} other={g.granteeAccountId} />{' '}
              <button
                type="button"
                class="danger"
                onClick={() => void attempt(() => api.call('DELETE', `/v1/grants/${g.id}`), given.reload)}
              >
                Revoke grant to {g.granteeAccountId}
              </button>
            </li>
          ))}
        </ul>
        <h3>Received</h3>
        <ul>
          {received.data?.items.map((g) => (
            <li key={g.id}>
              <GrantText g={g} other={g.ownerAccountId} />
            </li>
          ))}
        </ul>
        <form
          aria-label="Grant access to another account"
          onSubmit={(e) => {
            e.preventDefault();
            void attempt(
              () =>
                api.call('POST', '/v1/grants', {
                  granteeAccountId: grant.grantee.trim(),
                  actions: list(grant.actions),
                  resources: list(grant.resources),
                }),
              given.reload,
            );
          }}
        >
          <label>
            Account id to grant
            <input
              value={grant.grantee}
              onInput={(e) => setGrant({ ...grant, grantee: e.currentTarget.value })}
              required
            />
          </label>
          <label>
            Actions
            <input
              value={grant.actions}
              placeholder="kafka:DescribeInstance"
              onInput={(e) => setGrant({ ...grant, actions: e.currentTarget.value })}
              required
            />
          </label>
          <label>
            Resources
            <input
              value={grant.resources}
              onInput={(e) => setGrant({ ...grant, resources: e.currentTarget.value })}
              required
            />
          </label>
          <button type="submit">Grant</button>
        </form>
      </section>
      <section class="panel" aria-labelledby="channels-title">
        <h2 id="channels-title">Notification channels</h2>
        <ProblemBox error={channels.error} />
        <ul>
          {channels.data?.items.map((c) => (
            <li key={c.id}>
              {c.name} <code>{c.url}</code>{' '}
              <button
                type="button"
                class="danger"
                onClick={() =>
                  void attempt(() => api.call('DELETE', `/v1/notification-channels/${c.id}`), channels.reload)
                }
              >
                Delete channel {c.name}
              </button>
            </li>
          ))}
        </ul>
        <form
          aria-label="Create webhook channel"
          onSubmit={(e) => {
            e.preventDefault();
            void attempt(async () => {
              const c = await api.call<{ secret: string }>('POST', '/v1/notification-channels', {
                name: channel.name,
                type: 'webhook',
                url: channel.url,
              });
              setSecret(c.secret);
            }, channels.reload);
          }}
        >
          <label>
            Channel name
            <input
              value={channel.name}
              onInput={(e) => setChannel({ ...channel, name: e.currentTarget.value })}
              required
            />
          </label>
          <label>
            Webhook URL
            <input
              type="url"
              value={channel.url}
              onInput={(e) => setChannel({ ...channel, url: e.currentTarget.value })}
              required
            />
          </label>
          <button type="submit">Create channel</button>
        </form>
        {secret ? (
          <p role="status">
            Signing secret <code>{secret}</code> (shown once){' '}
            <CopyButton text={secret} label="Copy the signing secret" />
          </p>
        ) : null}
      </section>
    </>
  );
}
