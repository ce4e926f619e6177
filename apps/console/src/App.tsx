import { useCallback, useEffect, useState } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { onUnauthorized } from './api/client.ts';
import { loadSession, signOut, type SessionInfo } from './api/session.ts';
import { Layout } from './components/Layout.tsx';
import { ErrorMessage, Loading } from './components/ui.tsx';
import { AuditPage } from './pages/AuditPage.tsx';
import { ConnectionPage } from './pages/connection/ConnectionPage.tsx';
import { ConnectionsPage } from './pages/ConnectionsPage.tsx';
import { HealthPage } from './pages/HealthPage.tsx';
import { OrgPage } from './pages/OrgPage.tsx';
import { RoleMappingPage } from './pages/RoleMappingPage.tsx';
import { SessionContext } from './session-context.ts';
import { OrgsPage } from './pages/OrgsPage.tsx';
import { PeoplePage } from './pages/PeoplePage.tsx';
import { PersonPage } from './pages/person/PersonPage.tsx';
import { SignInPage } from './pages/SignInPage.tsx';

type SessionState = { status: 'loading' } | { status: 'signed-out'; reason?: string } | { status: 'signed-in'; session: SessionInfo } | { status: 'error'; error: Error };

export function App() {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const check = useCallback(() => {
    setState({ status: 'loading' });
    loadSession().then(
      (session) => setState(session ? { status: 'signed-in', session } : { status: 'signed-out' }),
      (error: Error) => setState({ status: 'error', error }),
    );
  }, []);
  useEffect(check, [check]);
  useEffect(() => onUnauthorized(() => setState({ status: 'signed-out', reason: 'Your session has ended. Sign in again.' })), []);

  if (state.status === 'loading') return <main className="center"><Loading label="Checking your session…" /></main>;
  if (state.status === 'error') return <main className="center"><ErrorMessage error={state.error} retry={check} title="The console cannot reach Doorman" /></main>;
  if (state.status === 'signed-out') return <SignInPage reason={state.reason} onSignedIn={(session) => setState({ status: 'signed-in', session })} />;

  const logout = async () => {
    try {
      await signOut();
    } finally {
      setState({ status: 'signed-out', reason: 'You are signed out.' });
    }
  };
  return (
    <SessionContext.Provider value={state.session}>
    <Layout session={state.session} onSignOut={logout}>
      <Routes>
        <Route path="/" element={<Navigate to="/orgs" replace />} />
        <Route path="/orgs" element={<OrgsPage />} />
        <Route path="/orgs/:org" element={<OrgPage />} />
        <Route path="/connections" element={<ConnectionsPage />} />
        <Route path="/connections/:id" element={<ConnectionPage />} />
        <Route path="/people" element={<PeoplePage />} />
        <Route path="/people/:id" element={<PersonPage />} />
        <Route path="/role-mapping" element={<RoleMappingPage />} />
        <Route path="/audit" element={<AuditPage />} />
        <Route path="/health" element={<HealthPage />} />
        <Route path="*" element={<p>This page does not exist.</p>} />
      </Routes>
    </Layout>
    </SessionContext.Provider>
  );
}
