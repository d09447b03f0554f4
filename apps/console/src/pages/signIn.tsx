import { useState } from 'preact/hooks';
import { api } from '../api';
import { ProblemBox } from '../components/problem';

export function SignIn({ notice }: { notice: string | undefined }) {
  const [keyId, setKeyId] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  return (
    <main class="sign-in">
      <h1>Fjord console</h1>
      {notice ? <p role="status">{notice}</p> : null}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            await api.signIn(keyId.trim(), secret.trim());
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          API key id
          <input
            name="keyId"
            value={keyId}
            onInput={(e) => setKeyId(e.currentTarget.value)}
            required
            autoComplete="username"
          />
        </label>
        <label>
          Secret
          <input
            name="secret"
            type="password"
            value={secret}
            onInput={(e) => setSecret(e.currentTarget.value)}
            required
            autoComplete="current-password"
          />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <ProblemBox error={error} />
      </form>
    </main>
  );
}
