import { Link } from 'react-router';
import type { Member } from '../api/types.ts';

/** How a membership was granted: its source and the connection that granted it. */
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

export const teamList = (member: Pick<Member, 'teams'>) => member.teams.map((t) => `${t.team ?? '?'} (${t.source})`).join(', ') || '—';
