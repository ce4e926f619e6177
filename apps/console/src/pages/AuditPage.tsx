import { useState, type FormEvent } from 'react';
import { admin, call, defined, query } from '../api/client.ts';
import type { paths } from '../api/schema.ts';
import type { AuditEvent, Ok } from '../api/types.ts';
import { Badge, ErrorMessage, Field, formatDate, Loading, Page, Section, Table } from '../components/ui.tsx';
import { useResource } from '../hooks.ts';

const EMPTY = { orgId: '', connectionId: '', action: '', actorType: '' };
type ActorType = NonNullable<paths['/audit']['get']['parameters']['query']>['actorType'];
type Verify = Ok<'/audit/verify', 'get'>;

export function AuditPage() {
  const [draft, setDraft] = useState(EMPTY);
  const [filters, setFilters] = useState(EMPTY);
  const [cursor, setCursor] = useState<string | undefined>();
  const filter = defined({ ...filters, actorType: (filters.actorType || undefined) as ActorType | undefined });
  const events = useResource(`audit:${JSON.stringify(filter)}:${cursor}`, (signal) => call(admin.GET('/audit', { params: { query: { ...filter, limit: 50, cursor } }, signal })));
  const verify = useResource(`verify:${filters.orgId}`, (signal): Promise<Verify> => call(admin.GET('/audit/verify', { params: { query: defined({ orgId: filters.orgId }) }, signal })));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCursor(undefined);
    setFilters(draft);
  };
  const set = (key: keyof typeof EMPTY, value: string) => setDraft((d) => ({ ...d, [key]: value }));
  return (
    <Page title="Audit">
      <Section title="Chain verification">
        {verify.loading && !verify.data ? <Loading label="Verifying the hash chain…" /> : null}
        <ErrorMessage error={verify.error} retry={verify.reload} />
        {verify.data ? (
          <p role="status" className={verify.data.ok ? 'success' : 'error'}>
            {verify.data.ok ? <Badge tone="good">intact</Badge> : <Badge tone="bad">broken</Badge>} {filters.orgId ? `Organization ${filters.orgId}` : 'Deployment chain'}:{' '}
            {verify.data.checked} events checked
            {verify.data.ok ? '' : ` — broken at seq ${verify.data.brokenAtSeq}: ${verify.data.reason}`}
            {verify.data.findings?.map((f) => ` ${f.reason}`)}
          </p>
        ) : null}
        <button type="button" className="secondary small" onClick={verify.reload}>
          Verify again
        </button>
      </Section>
      <Section title="Events">
        <form className="filters" onSubmit={submit} aria-label="Filter events">
          <Field label="Organization (id or name)">{(props) => <input {...props} value={draft.orgId} onChange={(e) => set('orgId', e.target.value)} />}</Field>
          <Field label="Connection (id or name)">{(props) => <input {...props} value={draft.connectionId} onChange={(e) => set('connectionId', e.target.value)} />}</Field>
          <Field label="Action" hint="exact, or a prefix like member.*">
            {(props) => <input {...props} value={draft.action} onChange={(e) => set('action', e.target.value)} />}
          </Field>
          <Field label="Actor type">
            {(props) => (
              <select {...props} value={draft.actorType} onChange={(e) => set('actorType', e.target.value)}>
                <option value="">any</option>
                <option value="admin_token">admin token</option>
                <option value="scim_token">SCIM token</option>
                <option value="sso_user">SSO user</option>
                <option value="system">system</option>
              </select>
            )}
          </Field>
          <button type="submit">Apply filters</button>
          <a className="button-link" href={`/admin/v1/audit/export${query({ ...filters, format: 'csv' })}`} download>
            Export CSV
          </a>
          <a className="button-link" href={`/admin/v1/audit/export${query({ ...filters, format: 'ndjson' })}`} download>
            Export NDJSON
          </a>
        </form>
        {events.loading && !events.data ? <Loading /> : null}
        <ErrorMessage error={events.error} retry={events.reload} />
        {events.data?.events.length === 0 ? <p className="empty">No events match.</p> : null}
        {events.data?.events.length ? <AuditEventsTable caption="Audit events" events={events.data.events} /> : null}
        <div className="pager">
          {cursor ? (
            <button type="button" className="secondary small" onClick={() => setCursor(undefined)}>
              Newest
            </button>
          ) : null}
          {events.data?.nextCursor ? (
            <button type="button" className="secondary small" onClick={() => setCursor(events.data!.nextCursor!)}>
              Older events
            </button>
          ) : null}
        </div>
      </Section>
    </Page>
  );
}

type Change = { before?: unknown; after?: unknown };

export function AuditEventsTable({ caption, events }: { caption: string; events: AuditEvent[] }) {
  return (
    <Table caption={caption}>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Action</th>
          <th scope="col">Target</th>
          <th scope="col">Actor</th>
          <th scope="col">Changes</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.id}>
            <td>{formatDate(e.occurredAt)}</td>
            <td>
              <code>{e.action}</code> {e.sealed ? null : <Badge tone="warn">unsealed</Badge>}
            </td>
            <td className="wrap">{e.target ? `${e.target.type ?? ''} ${e.target.id ?? ''}` : '—'}</td>
            <td className="wrap">
              {e.actor.type}
              {e.actor.id ? ` ${e.actor.id.slice(0, 12)}` : ''}
            </td>
            <td className="wrap">
              {e.changes
                ? Object.entries(e.changes)
                    .map(([k, v]) => `${k}: ${JSON.stringify((v as Change).before ?? null)} → ${JSON.stringify((v as Change).after ?? null)}`)
                    .join('; ')
                : '—'}
            </td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
