import type { AclBinding, Operation } from '@fjord/contracts';
import { useState } from 'preact/hooks';
import { api } from '../api';
import { useLoad } from '../components/load';
import { OperationProgress } from '../components/operation';
import { ProblemBox } from '../components/problem';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface SaslUser {
  name: string;
  mechanisms: string[];
  status: string;
}
const RESOURCE_TYPES = ['topic', 'group', 'cluster', 'transactionalId'];
const OPERATIONS = [
  'all',
  'read',
  'write',
  'create',
  'delete',
  'alter',
  'describe',
  'clusterAction',
  'describeConfigs',
  'alterConfigs',
  'idempotentWrite',
];

/** SASL/SCRAM users and ACLs of an instance; each change is an operation. */
export function SecurityTab({ instanceId }: { instanceId: string }) {
  const base = `/v1/instances/${instanceId}`;
  const users = useLoad(() => api.get<Page<SaslUser>>(`${base}/users?limit=100`), [base]);
  const acls = useLoad(() => api.get<Page<AclBinding>>(`${base}/acls?limit=100`), [base]);
  const [error, setError] = useState<unknown>();
  const [op, setOp] = useState<string>();
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [acl, setAcl] = useState({
    resourceType: 'topic',
    resourceName: '',
    patternType: 'literal',
    principal: 'User:',
    operation: 'read',
    permission: 'allow',
  });
  const run = async (method: string, path: string, body?: unknown) => {
    setError(undefined);
    try {
      setOp((await api.call<{ operation: Operation }>(method, path, body)).operation.id);
    } catch (err) {
      setError(err);
    }
  };
  const done = () => {
    users.reload();
    acls.reload();
  };
  return (
    <div class="grid">
      <section class="panel" aria-labelledby="users-title">
        <h2 id="users-title">SASL users</h2>
        <ProblemBox error={users.error} />
        <ul>
          {users.data?.items.map((u) => (
            <li key={u.name}>
              <code>{u.name}</code> {u.mechanisms.join(', ')} <small>{u.status}</small>{' '}
              <button
                type="button"
                class="danger"
                onClick={() => void run('DELETE', `${base}/users/${encodeURIComponent(u.name)}`)}
              >
                Delete user {u.name}
              </button>
            </li>
          ))}
        </ul>
        <form
          aria-label="Create SASL user"
          onSubmit={(e) => {
            e.preventDefault();
            void run('POST', `${base}/users`, { name: user, password });
          }}
        >
          <label>
            User name
            <input value={user} onInput={(e) => setUser(e.currentTarget.value)} required />
          </label>
          <label>
            Password (at least 8 characters)
            <input
              type="password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              required
              autoComplete="new-password"
            />
          </label>
          <button type="submit">Create user</button>
        </form>
      </section>
      <section class="panel wide" aria-labelledby="acls-title">
        <h2 id="acls-title">ACLs</h2>
        <ProblemBox error={acls.error} />
        <table>
          <thead>
            <tr>
              <th scope="col">Principal</th>
              <th scope="col">Permission</th>
              <th scope="col">Operation</th>
              <th scope="col">Resource</th>
              <th scope="col">Host</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {acls.data?.items.map((a) => (
              <tr key={JSON.stringify(a)}>
                <td>{a.principal}</td>
                <td>{a.permission}</td>
                <td>{a.operation}</td>
                <td>
                  {a.resourceType} {a.patternType === 'prefixed' ? `${a.resourceName}*` : a.resourceName}
                </td>
                <td>{a.host}</td>
                <td>
                  <button
                    type="button"
                    class="danger"
                    onClick={() => void run('POST', `${base}/acls/delete`, a)}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form
          aria-label="Create ACL"
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            void run('POST', `${base}/acls`, acl);
          }}
        >
          <label>
            Principal
            <input
              value={acl.principal}
              onInput={(e) => setAcl({ ...acl, principal: e.currentTarget.value })}
              required
            />
          </label>
          <label>
            Resource type
            <select
              value={acl.resourceType}
              onChange={(e) => setAcl({ ...acl, resourceType: e.currentTarget.value })}
            >
              {RESOURCE_TYPES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <label>
            Resource name
            <input
              value={acl.resourceName}
              onInput={(e) => setAcl({ ...acl, resourceName: e.currentTarget.value })}
              required
            />
          </label>
          <label>
            Pattern
            <select
              value={acl.patternType}
              onChange={(e) => setAcl({ ...acl, patternType: e.currentTarget.value })}
            >
              <option>literal</option>
              <option>prefixed</option>
            </select>
          </label>
          <label>
            Operation
            <select
              value={acl.operation}
              onChange={(e) => setAcl({ ...acl, operation: e.currentTarget.value })}
            >
              {OPERATIONS.map((o) => (
                <option key={o}>{o}</option>
              ))}
            </select>
          </label>
          <label>
            Permission
            <select
              value={acl.permission}
              onChange={(e) => setAcl({ ...acl, permission: e.currentTarget.value })}
            >
              <option>allow</option>
              <option>deny</option>
            </select>
          </label>
          <button type="submit">Create ACL</button>
        </form>
      </section>
      <ProblemBox error={error} />
      {op ? <OperationProgress id={op} onDone={done} /> : null}
    </div>
  );
}
