import { useId, useState } from 'react';
import { admin, call } from '../../api/client.ts';
import type { ActivityItem } from '../../api/types.ts';
import { Badge, ErrorMessage, formatDate, Loading, Section, Table } from '../../components/ui.tsx';
import { useResource } from '../../hooks.ts';

type Outcome = 'error' | 'all';
const PAGE = 25;

/**
 * The connection's activity log (GET /connections/:connection/activity, the people plugin;
 * docs/connection-activity.md): the SCIM and SSO requests Doorman refused, newest first, and with
 * "everything" also the changes it accepted from this connection. Pages go back by cursor; the
 * cursors already followed are kept so "Newer" returns without asking the server to page backwards.
 */
export function Activity({ connectionId }: { connectionId: string }) {
  const [outcome, setOutcome] = useState<Outcome>('error');
  // cursors[0] is the newest page (no cursor); the last entry is the page shown.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const page = useResource(`activity:${connectionId}:${outcome}:${cursor ?? ''}`, (signal) =>
    call(admin.GET('/connections/{connectionId}/activity', { params: { path: { connectionId }, query: { outcome, limit: PAGE, ...(cursor ? { cursor } : {}) } }, signal })),
  );
  const name = useId();
  const items = page.data?.items;
  const choose = (next: Outcome) => {
    setOutcome(next);
    setCursors([undefined]);
  };
  return (
    <Section title="Activity and errors">
      <fieldset className="segmented">
        <legend>Show</legend>
        <label className="check">
          <input type="radio" name={name} value="error" checked={outcome === 'error'} onChange={() => choose('error')} /> Refused requests only
        </label>
        <label className="check">
          <input type="radio" name={name} value="all" checked={outcome === 'all'} onChange={() => choose('all')} /> Refused and accepted
        </label>
      </fieldset>
      {page.loading ? <Loading label="Reading the activity log…" /> : null}
      <ErrorMessage error={page.error} retry={page.reload} title="Activity not loaded" />
      {items && items.length === 0 && !page.loading ? <EmptyActivity outcome={outcome} firstPage={cursors.length === 1} /> : null}
      {items?.length ? <ActivityTable items={items} caption={outcome === 'error' ? 'Refused requests' : 'Connection activity'} /> : null}
      {page.data && (cursors.length > 1 || page.data.nextCursor) ? (
        <nav className="pager" aria-label="Activity pages">
          {/* aria-disabled, not disabled: the button pressed keeps the keyboard focus when its end is reached. */}
          <PagerButton label="Newer" off={cursors.length === 1 || page.loading} go={() => setCursors((c) => c.slice(0, -1))} />
          <span className="muted">Page {cursors.length}</span>
          <PagerButton label="Older" off={!page.data.nextCursor || page.loading} go={() => setCursors((c) => [...c, page.data!.nextCursor!])} />
        </nav>
      ) : null}
    </Section>
  );
}

function PagerButton({ label, off, go }: { label: string; off: boolean; go(): void }) {
  return (
    <button type="button" className="secondary small" aria-disabled={off || undefined} onClick={() => !off && go()}>
      {label}
    </button>
  );
}

function EmptyActivity({ outcome, firstPage }: { outcome: Outcome; firstPage: boolean }) {
  if (!firstPage) return <p className="empty">No older activity.</p>;
  return (
    <div className="empty">
      {outcome === 'error' ? (
        <p>
          No refused requests. When Doorman refuses a SCIM or SSO request from this connection (a wrong or revoked token, SCIM turned off, an invalid
          dockerRole, the rate limit, a failed sign-in), it appears here with its status, the reason sent to the IdP and the request id to search the logs
          for. Request bodies and tokens are never kept.
        </p>
      ) : (
        <p>No activity yet. The IdP’s SCIM changes and sign-ins through this connection, and every request Doorman refused, will appear here.</p>
      )}
    </div>
  );
}

const what = (i: ActivityItem) => (i.outcome === 'accepted' ? i.action : [i.method, i.route].filter(Boolean).join(' ')) || '—';

function ActivityTable({ items, caption }: { items: ActivityItem[]; caption: string }) {
  return (
    <Table caption={caption}>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Outcome</th>
          <th scope="col">Request</th>
          <th scope="col">Why</th>
          <th scope="col">Request id</th>
        </tr>
      </thead>
      <tbody>
        {items.map((i, n) => (
          <tr key={`${i.at}:${i.requestId ?? i.eventId ?? n}:${n}`}>
            <td>{formatDate(i.at)}</td>
            <td>
              {i.outcome === 'refused' ? <Badge tone="bad">{i.status ? `refused ${i.status}` : 'refused'}</Badge> : <Badge tone="good">accepted</Badge>}
              {i.surface ? <span className="muted"> {i.surface.toUpperCase()}</span> : null}
            </td>
            <td className="wrap">
              <code>{what(i)}</code>
              {i.target ? (
                <span className="muted">
                  {' '}
                  {i.target.type} {i.target.id}
                </span>
              ) : null}
            </td>
            <td className="wrap">
              {i.detail ?? (i.outcome === 'accepted' ? '' : '—')}
              {i.scimType || i.code ? <span className="muted"> ({[i.scimType, i.code].filter(Boolean).join(', ')})</span> : null}
              {i.unrecorded ? <span className="muted"> · {i.unrecorded} similar refusals not recorded (rate cap)</span> : null}
            </td>
            <td className="wrap">{i.requestId ? <code>{i.requestId}</code> : '—'}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
