import { useState } from 'react';
import { Link } from 'react-router';
import { admin, call } from '../../api/client.ts';
import type { Person } from '../../api/types.ts';
import { ConfirmButton } from '../../components/Confirm.tsx';
import { ErrorMessage, formatDate, Section, Table } from '../../components/ui.tsx';
import { useAction } from '../../hooks.ts';

/**
 * The person's open SSO sessions, and "End sessions" (POST /people/:person/sessions/end, audited as
 * sso.sessions_ended with reason admin): every session ends at its next request, whatever connection
 * opened it (docs/people-and-explain.md). Offered even when none is listed: the list may be older than
 * a sign-in, and the server records the admin's request either way.
 */
export function Sessions({ person, names, onChanged }: { person: Person; names: Map<string, string | null>; onChanged(): void }) {
  const end = useAction(() => call(admin.POST('/people/{person}/sessions/end', { params: { path: { person: person.account.id } } })));
  const [ended, setEnded] = useState<number>();
  const open = person.sessions.length;
  return (
    <Section
      title="Sessions"
      actions={
        <ConfirmButton
          label="End sessions…"
          question={
            <>
              End {open === 0 ? 'every open SSO session' : open === 1 ? 'the open SSO session' : `all ${open} open SSO sessions`} of <strong>{person.account.email}</strong>?
              They are signed out at their next request and must sign in again through their IdP.
            </>
          }
          confirmLabel="Yes, end sessions"
          busyLabel="Ending sessions…"
          busy={end.busy}
          onConfirm={async () => {
            setEnded(undefined);
            const result = await end.run();
            if (result) {
              setEnded(result.sessionsEnded);
              onChanged();
            }
          }}
        />
      }
    >
      {ended !== undefined ? (
        <p className="success" role="status">
          {ended === 1 ? '1 session ended.' : `${ended} sessions ended.`} The event is in the audit trail (sso.sessions_ended).
        </p>
      ) : null}
      <ErrorMessage error={end.error} title="Sessions not ended" />
      {open === 0 ? <p className="empty">No open SSO session: the person is signed out everywhere.</p> : null}
      {open ? (
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
