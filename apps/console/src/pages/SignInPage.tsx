import { useEffect, useRef, useState, type FormEvent } from 'react';
import { signIn, signInWithSso, ssoStartUrl, type SessionInfo } from '../api/session.ts';
import { ErrorMessage, Field } from '../components/ui.tsx';

/** The query the SSO sign-in returns to this page with (packages/plugins/console src/sso-sign-in.ts). */
const SSO_RETURN = 'sso=return';

/**
 * Sign-in with an admin token, exchanged for a session cookie (the token is dropped at once), or, for
 * an organization owner, through their organization's SSO: the browser goes to the IdP and comes back
 * here with `?sso=return`, and the page opens the session (docs/console.md, "Organization owners").
 */
export function SignInPage({ reason, onSignedIn, navigate = (url) => window.location.assign(url) }: { reason?: string; onSignedIn(session: SessionInfo): void; navigate?: (url: string) => void }) {
  const [token, setToken] = useState('');
  const [email, setEmail] = useState('');
  const [ssoError, setSsoError] = useState<Error>();
  const returning = typeof window !== 'undefined' && window.location.search.includes(SSO_RETURN);
  const attempted = useRef(false);
  useEffect(() => {
    if (!returning || attempted.current) return;
    attempted.current = true;
    // Drop the marker, so a reload does not try again.
    window.history.replaceState(null, '', window.location.pathname);
    signInWithSso().then(onSignedIn, (err: Error) => setSsoError(err));
  }, [returning, onSignedIn]);
  const startSso = (event: FormEvent) => {
    event.preventDefault();
    navigate(ssoStartUrl(email.trim()));
  };
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
      <form className="card signin" onSubmit={startSso} aria-labelledby="sso-title">
        <h2 id="sso-title">Sign in with your organization’s SSO</h2>
        <p className="muted">For organization owners: you see and manage only the organizations you own.</p>
        <Field label="Work email">{(props) => <input {...props} type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />}</Field>
        <ErrorMessage error={ssoError} title="SSO sign-in failed" />
        <button type="submit" className="secondary" disabled={!email.trim()}>
          Continue with SSO
        </button>
      </form>
    </main>
  );
}
