// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, screen } from '@testing-library/react';
import { respond, renderPersonPage } from './helpers.tsx';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});
const LONG = 'n'.repeat(200);
const provenance = { via: 'scim_attribute', connectionId: 'c1', ref: null };
const PERSON = {
  account: { id: 'u1', email: `${LONG}@example.com`, username: LONG, fullName: LONG, createdAt: '2026-12-04T10:00:00Z', updatedAt: '2026-12-04T10:00:00Z' },
  connections: [{ connectionId: 'c1', connectionName: LONG, externalId: null, lastIdpRequestAt: null, scimId: 's1', state: 'deactivated', userName: 'alice@example.com' }],
  organizations: [{ orgId: 'o1', org: LONG, role: 'editor', since: '2026-12-04T10:00:00Z', provenance }],
  teams: [],
  sessions: [],
  jobs: [],
};
const EXPLAIN = {
  person: { id: 'u1', email: 'alice@example.com' },
  org: null,
  team: null,
  now: { summary: 'alice@example.com is in no organization: deactivated by Okta', organizations: [], teams: [] },
  whyNot: [2],
  chain: [
    { n: 1, kind: 'idp_request', action: 'scim.user.created', summary: 'Okta created alice@example.com', at: '2026-12-04T10:00:00Z', eventId: 'e1', follows: null, jobId: null, requestId: 'r1', connectionId: 'c1', orgId: 'o1', teamId: null, details: {}, sealed: true },
    { n: 2, kind: 'deactivation', action: 'user.deactivated', summary: 'Okta deactivated alice@example.com', at: '2026-12-04T11:00:00Z', eventId: 'e2', follows: 'e1', jobId: null, requestId: 'r2', connectionId: 'c1', orgId: 'o1', teamId: null, details: {}, sealed: false },
  ],
};

describe('the person page', () => {
  it('shows per-connection state, provenance and the explain chain; 200-character names sit in wrapping cells', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => (new URL(request.url).pathname.endsWith('/explain') ? respond(200, EXPLAIN) : respond(200, PERSON))),
    );
    renderPersonPage('/people/u1');
    expect(screen.getByRole('status').textContent).toContain('Loading');
    await screen.findByRole('heading', { level: 1, name: `${LONG}@example.com` });
    expect(screen.getByRole('heading', { level: 1 }).className).toContain('wrap');
    const state = screen.getByRole('region', { name: 'State per connection' });
    expect(state.textContent).toContain('deactivated');
    const longLinks = screen.getAllByRole('link', { name: LONG });
    expect(longLinks.length).toBeGreaterThanOrEqual(3);
    for (const link of longLinks) expect(link.closest('td')!.className).toContain('wrap');
    expect(screen.getByRole('region', { name: 'Organization memberships' }).textContent).toMatch(/editor.*SCIM attribute/);
    const chain = await screen.findByRole('list', { name: 'Explain chain' });
    const steps = chain.querySelectorAll('li');
    expect([...steps].map((s) => s.textContent)).toEqual([expect.stringContaining('Okta created alice'), expect.stringContaining('Okta deactivated alice')]);
    expect(steps[1]!.className).toBe('why-not');
    expect(steps[1]!.textContent).toContain('not yet sealed');
    expect(screen.getByText(/deactivated by Okta/)).toBeTruthy();
  });

  it('says what the server answered when the person is unknown, with a retry', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => respond(404, { error: { code: 'DMN_NOT_FOUND', message: "person 'nobody' not found" } })));
    renderPersonPage('/people/nobody');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain("person 'nobody' not found");
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
  });
});
