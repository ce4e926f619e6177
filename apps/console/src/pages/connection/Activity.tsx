import { query } from '../../api/client.ts';
import { ErrorMessage, Loading, Section } from '../../components/ui.tsx';
import { useResource } from '../../hooks.ts';
import { AuditEventsTable, type AuditEvent } from '../AuditPage.tsx';

/** The connection's recent changes and errors, from the audit trail. */
export function Activity({ connectionId }: { connectionId: string }) {
  const events = useResource<{ events: AuditEvent[] }>(`/admin/v1/audit${query({ connectionId, limit: 50 })}`);
  return (
    <Section title="Activity">
      {events.loading && !events.data ? <Loading /> : null}
      <ErrorMessage error={events.error} retry={events.reload} />
      {events.data?.events.length === 0 ? <p className="empty">No activity yet.</p> : null}
      {events.data?.events.length ? <AuditEventsTable caption="Connection activity" events={events.data.events} /> : null}
    </Section>
  );
}
