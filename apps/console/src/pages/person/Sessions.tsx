import { Link } from 'react-router';
import type { Person } from '../../api/types.ts';
import { formatDate, Section, Table } from '../../components/ui.tsx';

/** The person's open SSO sessions. */
export function Sessions({ person, names }: { person: Person; names: Map<string, string | null>; onChanged(): void }) {
  return (
    <Section title="Sessions">
      {person.sessions.length === 0 ? <p className="empty">No open SSO session.</p> : null}
      {person.sessions.length ? (
        <Table caption="Open sessions">
          <thead>
            <tr>
              <th scope="col">Connection</th>
              <th scope="col">Signed in</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {person.sessions.map((s) => (
              <tr key={s.id}>
                <td className="wrap">
                  <Link to={`/connections/${s.connectionId}`}>{names.get(s.connectionId) ?? s.connectionId}</Link>
                </td>
                <td>{formatDate(s.createdAt)}</td>
                <td>{formatDate(s.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
    </Section>
  );
}
