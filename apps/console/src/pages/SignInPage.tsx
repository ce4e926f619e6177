import { useState, type FormEvent } from 'react';
import { signIn, type SessionInfo } from '../api/session.ts';
import { ErrorMessage, Field } from '../components/ui.tsx';

/** Sign-in with an admin token, exchanged for a session cookie; the token is dropped at once. */
export function SignInPage({ reason, onSignedIn }: { reason?: string; onSignedIn(session: SessionInfo): void }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const session = await signIn(token);
      setToken('');
      onSignedIn(session);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="center" id="main">
      <form className="card signin" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Doorman</h1>
        {reason ? <p role="status">{reason}</p> : null}
        <Field
          label="Admin token"
          hint={
            <>
              <code>ADMIN_BOOTSTRAP_TOKEN</code>, or a token from <code>npm run doorman -- admin-tokens create</code>. It is exchanged for a session and not kept by this page.
            </>
          }
        >
          {(props) => <input {...props} type="password" autoComplete="off" required value={token} onChange={(e) => setToken(e.target.value)} autoFocus />}
        </Field>
        <ErrorMessage error={error} title="Sign-in failed" />
        <button type="submit" disabled={busy || !token}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
