import { query } from '../../api/client.ts';
import { ErrorMessage, formatDate, Loading, Section, Table } from '../../components/ui.tsx';
import { useResource } from '../../hooks.ts';
import type { AuditEvent } from '../AuditPage.tsx';

/** The connection's recent changes and errors, from the audit trail. */
export function Activity({ connectionId }: { connectionId: string }) {
  const events = useResource<{ events: AuditEvent[] }>(`/admin/v1/audit${query({ connectionId, limit: 50 })}`);
  return (
    <Section title="Activity">
      {events.loading && !events.data ? <Loading /> : null}
      <ErrorMessage error={events.error} retry={events.reload} />
      {events.data?.events.length === 0 ? <p className="empty">No activity yet.</p> : null}
      {events.data?.events.length ? (
        <Table caption="Connection activity">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">By</th>
            </tr>
          </thead>
          <tbody>
            {events.data.events.map((e) => (
              <tr key={e.id}>
                <td>{formatDate(e.occurredAt)}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td className="wrap">{e.target ? `${e.target.type} ${e.target.id ?? ''}` : '—'}</td>
                <td className="wrap">{e.actor.type}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
    </Section>
  );
}
