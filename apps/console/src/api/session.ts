import { call, consoleApi, setCsrfToken } from './client.ts';
import type { SessionInfo } from './session-paths.ts';

export type { SessionInfo } from './session-paths.ts';

/** The current session, or null when not signed in. */
export async function loadSession(): Promise<SessionInfo | null> {
  try {
    const session = await call(consoleApi.GET('/session'));
    setCsrfToken(session.csrfToken);
    return session;
  } catch (err) {
    if ((err as { status?: number }).status === 401) return null;
    throw err;
  }
}

/** Exchanges an admin token for a session cookie; the token is not kept anywhere. */
export async function signIn(token: string): Promise<SessionInfo> {
  const session = await call(consoleApi.POST('/session', { body: { token } }));
  setCsrfToken(session.csrfToken);
  return session;
}

/** Where an organization owner's SSO sign-in starts (the browser leaves for the IdP and comes back). */
export const ssoStartUrl = (email: string) => `/console/api/sso?${new URLSearchParams({ email }).toString()}`;

/** Back from the IdP: opens the owner's console session from the SSO session. */
export async function signInWithSso(): Promise<SessionInfo> {
  const session = await call(consoleApi.POST('/session/sso', { body: {} }));
  setCsrfToken(session.csrfToken);
  return session;
}

export async function signOut(): Promise<void> {
  await call(consoleApi.DELETE('/session'));
  setCsrfToken(undefined);
}
