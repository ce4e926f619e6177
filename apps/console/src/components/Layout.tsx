import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import type { SessionInfo } from '../api/session.ts';

/** `owner`: shown to organization owners too. Hiding is a convenience; the server enforces the scope (docs/console.md). */
export const NAV = [
  { to: '/orgs', label: 'Organizations', owner: true },
  { to: '/connections', label: 'SSO connections', owner: true },
  { to: '/people', label: 'People', owner: true },
  { to: '/role-mapping', label: 'Role mapping', owner: false },
  { to: '/audit', label: 'Audit', owner: false },
  { to: '/health', label: 'Health', owner: false },
];

/** The navigation this session can use. */
export const navFor = (session: SessionInfo) => NAV.filter((item) => !session.owner || item.owner);

function who(session: SessionInfo): { text: string; title: string } {
  if (session.owner) return { text: session.owner.email ?? 'organization owner', title: `Owner of ${session.owner.organizations.map((o) => o.name).join(', ')}` };
  if (session.tokenId === 'bootstrap') return { text: 'bootstrap token', title: 'The admin token this session was opened with' };
  return { text: `token ${String(session.tokenId).slice(0, 8)}`, title: 'The admin token this session was opened with' };
}

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
            {navFor(session).map((item) => (
              <li key={item.to}>
                <NavLink to={item.to}>{item.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span className="muted" title={who(session).title}>
            {who(session).text}
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
