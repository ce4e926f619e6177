// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { findCompletion } from '../src/components/SyncRun.tsx';
import type { AuditEvent } from '../src/api/types.ts';
import { respond, renderPersonPage } from './helpers.tsx';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});
const LONG = 'c'.repeat(200);
const SESSIONS = [
  { id: 's1', connectionId: 'c1', createdAt: '2026-12-05T08:00:00Z', expiresAt: '2026-12-05T16:00:00Z' },
  { id: 's2', connectionId: 'c1', createdAt: '2026-12-05T09:00:00Z', expiresAt: '2026-12-05T17:00:00Z' },
];
const person = (sessions: unknown[]) => ({
  account: { id: 'u1', email: 'alice@example.com', username: 'alice', fullName: null, createdAt: '2026-12-04T10:00:00Z', updatedAt: '2026-12-04T10:00:00Z' },
  connections: [{ connectionId: 'c1', connectionName: LONG, externalId: null, lastIdpRequestAt: null, scimId: 's1', state: 'active', userName: 'alice@example.com' }],
  organizations: [],
  teams: [],
  sessions,
  jobs: [],
});
const EXPLAIN = { person: { id: 'u1', email: 'alice@example.com' }, org: null, team: null, now: { summary: 'in no organization', organizations: [], teams: [] }, whyNot: [], chain: [] };
const event = (seq: number, jobId: string | null, after?: unknown): AuditEvent => ({
  id: `e${seq}`,
  seq,
  action: 'sync.completed',
  actor: { type: 'system', id: null },
  causeId: null,
  chainSeq: null,
  changes: after ? { summary: { after } } : null,
  connectionId: 'c1',
  context: null,
  hash: null,
  jobId,
  occurredAt: '2026-12-05T10:00:00Z',
  orgId: null,
  prevHash: null,
  requestId: null,
  sealed: false,
  target: { type: 'connection', id: 'c1' },
});

type Handler = (request: Request, url: URL) => Response | Promise<Response> | undefined;
/** A fetch that answers by route; every request is kept, in order. */
function server(handler: Handler) {
  const requests: Array<{ method: string; path: string; query: URLSearchParams }> = [];
  const fetchMock = vi.fn(async (request: Request) => {
    const url = new URL(request.url);
    requests.push({ method: request.method, path: url.pathname, query: url.searchParams });
    if (url.pathname.endsWith('/explain')) return respond(200, EXPLAIN);
    return (await handler(request, url)) ?? respond(404, { error: { code: 'DMN_NOT_FOUND', message: `no route ${url.pathname}` } });
  });
  vi.stubGlobal('fetch', fetchMock);
  return requests;
}

describe('ending a person’s sessions', () => {
  it('asks first (Escape cancels and gives the focus back), then ends them, says how many and reads the person again', async () => {
    let ended = false;
    const requests = server((request, url) => {
      if (url.pathname === '/admin/v1/people/u1') return respond(200, person(ended ? [] : SESSIONS));
      if (url.pathname === '/admin/v1/people/u1/sessions/end' && request.method === 'POST') {
        ended = true;
        return respond(200, { sessionsEnded: 2 });
      }
      return undefined;
    });
    renderPersonPage('/people/u1');
    const sessions = await screen.findByRole('region', { name: 'Sessions' });
    expect(within(sessions).getAllByRole('row')).toHaveLength(3);
    const trigger = within(sessions).getByRole('button', { name: 'End sessions…' });
    await userEvent.click(trigger);
    const dialog = within(sessions).getByRole('alertdialog');
    expect(dialog.textContent).toMatch(/End all 2 open SSO sessions of alice@example\.com\?/);
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Yes, end sessions' }));
    await userEvent.keyboard('{Escape}');
    expect(within(sessions).queryByRole('alertdialog')).toBeNull();
    expect(document.activeElement).toBe(within(sessions).getByRole('button', { name: 'End sessions…' }));
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(0);

    await userEvent.click(within(sessions).getByRole('button', { name: 'End sessions…' }));
    await userEvent.click(within(sessions).getByRole('button', { name: 'Yes, end sessions' }));
    expect((await within(sessions).findByRole('status')).textContent).toContain('2 sessions ended.');
    expect(requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/admin/v1/people/u1/sessions/end']);
    await within(sessions).findByText(/No open SSO session/);
    expect(requests.filter((r) => r.path === '/admin/v1/people/u1')).toHaveLength(2);
    // The focus is back on the button that started it.
    expect(document.activeElement).toBe(within(sessions).getByRole('button', { name: 'End sessions…' }));
  });

  it('says what the server answered when it refuses, and keeps the sessions listed', async () => {
    server((request, url) => {
      if (url.pathname === '/admin/v1/people/u1') return respond(200, person(SESSIONS));
      if (request.method === 'POST') return respond(503, { error: { code: 'DMN_SOMETHING', message: 'database unavailable, try again' } });
      return undefined;
    });
    renderPersonPage('/people/u1');
    const sessions = await screen.findByRole('region', { name: 'Sessions' });
    await userEvent.click(within(sessions).getByRole('button', { name: 'End sessions…' }));
    await userEvent.click(within(sessions).getByRole('button', { name: 'Yes, end sessions' }));
    const alert = await within(sessions).findByRole('alert');
    expect(alert.textContent).toContain('Sessions not ended: database unavailable, try again');
    expect(within(sessions).getAllByRole('row')).toHaveLength(3);
    expect(within(sessions).queryByRole('status')).toBeNull();
  });
});

describe('re-running a connection’s sync from the person page', () => {
  it('queues the role-mapping sync, follows it to its sync.completed event and shows the result, then reads the person again', async () => {
    let polls = 0;
    const requests = server((request, url) => {
      if (url.pathname === '/admin/v1/people/u1') return respond(200, person([]));
      if (url.pathname === '/admin/v1/connections/c1/sync' && request.method === 'POST') return respond(202, { jobId: 'sync:c1:1733390000000' });
      if (url.pathname === '/admin/v1/health')
        return respond(200, {
          ready: true,
          checks: {},
          jobDashboard: '/admin/queues',
          jobs: { driver: 'bullmq', failedJobs: 0, outboxPending: 0, outboxUnfinished: 1, queues: [{ queue: 'sync', active: 1, waiting: 0, delayed: 1, failed: 0, completed: 4 }] },
        });
      if (url.pathname === '/admin/v1/audit') {
        expect(Object.fromEntries(url.searchParams)).toMatchObject({ connectionId: 'c1', action: 'sync.completed' });
        // Before the request and at the first look: only an older run.
        if (url.searchParams.get('limit') === '1' || polls++ === 0) return respond(200, { events: [event(5, 'sync%3Ac1%3A1')], nextCursor: null });
        const summary = { users: 3, changed: 1, failed: 1, changes: { added: 1, removed: 0, roleChanged: 0, teamsCreated: 0, sessionsEnded: 0 }, errors: [{ userId: 'u9', message: "Invalid dockerRole 'boss'" }] };
        return respond(200, { events: [event(9, 'sync%3Ac1%3A1733390000000', summary), event(5, 'sync%3Ac1%3A1')], nextCursor: null });
      }
      return undefined;
    });
    renderPersonPage('/people/u1');
    const section = await screen.findByRole('region', { name: 'Re-run sync' });
    // The 200-character connection name wraps.
    expect(within(section).getByText(LONG).closest('.wrap')).not.toBeNull();
    await userEvent.click(within(section).getByRole('button', { name: 'Re-run sync' }));
    expect((await within(section).findByText(/queued \(job/)).textContent).toContain('sync:c1:1733390000000');
    // Running: a second press does nothing, and the button keeps the focus (aria-disabled, not disabled).
    const running = within(section).getByRole('button', { name: 'Sync running…' });
    expect(running.getAttribute('aria-disabled')).toBe('true');
    expect(document.activeElement).toBe(running);
    await userEvent.click(running);
    // While it runs: the sync queue's depth, and the job dashboard linked.
    expect((await within(section).findByText(/Sync queue now: 1 running, 1 waiting\./, undefined, { timeout: 3000 })).querySelector('a')?.getAttribute('href')).toBe('/admin/queues');
    const result = await within(section).findByText(/finished: 3 people checked, 1 changed, 1 refused/, undefined, { timeout: 5000 });
    expect(result.closest('[role="status"]')).not.toBeNull();
    expect(within(section).getByRole('list', { name: 'Refused by role mapping' }).textContent).toContain("u9: Invalid dockerRole 'boss'");
    expect(requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/admin/v1/connections/c1/sync']);
    // The person is read again once the sync has finished.
    await vi.waitFor(() => expect(requests.filter((r) => r.path === '/admin/v1/people/u1')).toHaveLength(2));
    expect(within(section).getByRole('button', { name: 'Re-run sync' })).toHaveProperty('disabled', false);
  });

  it('says so when the request joined a sync already queued, naming the job that answered', async () => {
    let polls = 0;
    server((request, url) => {
      if (url.pathname === '/admin/v1/people/u1') return respond(200, person([]));
      if (request.method === 'POST') return respond(202, { jobId: 'sync:c1:2' });
      if (url.pathname === '/admin/v1/audit') {
        if (url.searchParams.get('limit') === '1' || polls++ === 0) return respond(200, { events: [], nextCursor: null });
        return respond(200, { events: [event(3, 'sync%3Ac1%3A1', { users: 2, changed: 0, failed: 0, errors: [] })], nextCursor: null });
      }
      return undefined;
    });
    renderPersonPage('/people/u1');
    const section = await screen.findByRole('region', { name: 'Re-run sync' });
    await userEvent.click(within(section).getByRole('button', { name: 'Re-run sync' }));
    const result = await within(section).findByText(/joined a sync of .* already queued/, undefined, { timeout: 5000 });
    expect(result.textContent).toMatch(/job sync%3Ac1%3A1\), which finished: 2 people checked, 0 changed, 0 refused/);
  });

  it('shows a refused sync (SCIM off) as an error naming why', async () => {
    server((request, url) => {
      if (url.pathname === '/admin/v1/people/u1') return respond(200, person([]));
      if (url.pathname === '/admin/v1/audit') return respond(200, { events: [], nextCursor: null });
      if (request.method === 'POST') return respond(403, { error: { code: 'DMN_NOT_ALLOWED', message: 'SCIM is disabled on this connection: there is nothing to sync' } });
      return undefined;
    });
    renderPersonPage('/people/u1');
    const section = await screen.findByRole('region', { name: 'Re-run sync' });
    await userEvent.click(within(section).getByRole('button', { name: 'Re-run sync' }));
    expect((await within(section).findByRole('alert')).textContent).toContain('Sync not queued: SCIM is disabled on this connection');
  });
});

describe('which sync.completed event answers a request', () => {
  const cases: Array<[string, AuditEvent[], number, string | undefined]> = [
    ['our job, by its BullMQ id', [event(9, 'sync%3Ac1%3A2'), event(8, 'sync%3Ac1%3A1')], 5, 'e9'],
    ['our job, by its outbox id', [event(9, 'x'), event(8, 'sync:c1:2')], 5, 'e8'],
    ['merged into another run: the first run after the request', [event(9, 'a'), event(8, 'b')], 5, 'e8'],
    ['only older runs: none yet', [event(5, 'sync%3Ac1%3A2'), event(3, 'b')], 5, undefined],
    ['nothing at all', [], 0, undefined],
  ];
  it.each(cases)('%s', (_name, events, baseline, expected) => {
    expect(findCompletion(events, 'sync:c1:2', baseline)?.id).toBe(expected);
  });
});
