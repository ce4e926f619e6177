import { admin, call } from '../../api/client.ts';
import { ErrorMessage, Loading, Section } from '../../components/ui.tsx';
import { useResource } from '../../hooks.ts';
import { AuditEventsTable } from '../AuditPage.tsx';

/** The connection's recent changes and errors, from the audit trail. */
export function Activity({ connectionId }: { connectionId: string }) {
  const events = useResource(`activity:${connectionId}`, (signal) => call(admin.GET('/audit', { params: { query: { connectionId, limit: 50 } }, signal })));
  return (
    <Section title="Activity">
      {events.loading && !events.data ? <Loading /> : null}
      <ErrorMessage error={events.error} retry={events.reload} />
      {events.data?.events.length === 0 ? <p className="empty">No activity yet.</p> : null}
      {events.data?.events.length ? <AuditEventsTable caption="Connection activity" events={events.data.events} /> : null}
    </Section>
  );
}
