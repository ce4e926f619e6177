import { Link } from 'react-router';
import type { Member, Person } from '../api/types.ts';

/** How an organization member was granted: its source and the connection that granted it. */
export function Provenance({ member }: { member: Pick<Member, 'source' | 'connectionId'> }) {
  return (
    <>
      {member.source}
      {member.connectionId ? (
        <>
          {' via '}
          <Link to={`/connections/${member.connectionId}`}>connection</Link>
        </>
      ) : null}
    </>
  );
}

const VIA: Record<Person['organizations'][number]['provenance']['via'], string> = {
  scim_attribute: 'SCIM attribute',
  scim_group: 'SCIM group',
  jit: 'SSO sign-in (JIT)',
  admin: 'an admin',
};

/** A person's membership provenance (docs/people-and-explain.md): what granted it, through which connection. */
export function Grant({ provenance, connectionName }: { provenance: Person['organizations'][number]['provenance']; connectionName?: string | null }) {
  return (
    <>
      {VIA[provenance.via]}
      {provenance.ref ? (
        <>
          {' '}
          <code className="wrap">{provenance.ref}</code>
        </>
      ) : null}
      {provenance.connectionId ? (
        <>
          {' · '}
          <Link to={`/connections/${provenance.connectionId}`} className="wrap">
            {connectionName ?? 'connection'}
          </Link>
        </>
      ) : null}
    </>
  );
}

export const teamList = (member: Pick<Member, 'teams'>) => member.teams.map((t) => `${t.team ?? '?'} (${t.source})`).join(', ') || '—';
