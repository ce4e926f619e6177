import { request, setCsrfToken } from './client.ts';

export interface SessionInfo {
  csrfToken: string;
  expiresInSeconds: number;
  tokenId: string;
  /** The deployment's PUBLIC_URL: the base of every URL an IdP admin pastes. */
  publicUrl: string;
}

const PATH = '/console/api/session';

/** The current session, or null when not signed in. */
export async function loadSession(): Promise<SessionInfo | null> {
  try {
    const session = await request<SessionInfo>('GET', PATH);
    setCsrfToken(session.csrfToken);
    return session;
  } catch (err) {
    if ((err as { status?: number }).status === 401) return null;
    throw err;
  }
}

/** Exchanges an admin token for a session cookie; the token is not kept anywhere. */
export async function signIn(token: string): Promise<SessionInfo> {
  const session = await request<SessionInfo>('POST', PATH, { token });
  setCsrfToken(session.csrfToken);
  return session;
}

export async function signOut(): Promise<void> {
  await request('DELETE', PATH);
  setCsrfToken(undefined);
}
