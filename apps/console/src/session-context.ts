import { createContext, useContext } from 'react';
import type { SessionInfo } from './api/session.ts';

export const SessionContext = createContext<SessionInfo | null>(null);

/** The signed-in session (only rendered inside the signed-in shell). */
export function useSession(): SessionInfo {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside the signed-in shell');
  return session;
}
