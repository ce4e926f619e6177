import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import type { SessionInfo } from '../api/session.ts';

export const NAV = [
  { to: '/orgs', label: 'Organizations' },
  { to: '/connections', label: 'SSO connections' },
  { to: '/people', label: 'People' },
  { to: '/role-mapping', label: 'Role mapping' },
  { to: '/audit', label: 'Audit' },
  { to: '/health', label: 'Health' },
];

export function Layout({ session, onSignOut, children }: { session: SessionInfo; onSignOut(): void; children: ReactNode }) {
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Doorman</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to}>{item.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span className="muted" title="The admin token this session was opened with">
            {session.tokenId === 'bootstrap' ? 'bootstrap token' : `token ${session.tokenId.slice(0, 8)}`}
          </span>
          <button type="button" className="secondary small" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
