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

export async function signOut(): Promise<void> {
  await call(consoleApi.DELETE('/session'));
  setCsrfToken(undefined);
}
