// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Activity } from '../src/pages/connection/Activity.tsx';
import { Domains } from '../src/pages/connection/Domains.tsx';
import { SetupPanels } from '../src/pages/connection/SetupPanels.tsx';
import { SessionContext } from '../src/session-context.ts';
import type { Connection } from '../src/api/types.ts';
import { respond } from './helpers.tsx';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});
const LONG = 'd'.repeat(200);
const refused = (n: number) => ({
  at: `2026-12-05T10:00:0${n}Z`,
  outcome: 'refused',
  surface: 'scim',
  method: 'PATCH',
  route: '/scim/v2/Users/:id',
  status: 400,
  scimType: 'invalidValue',
  code: 'DMN_INVALID_VALUE',
  detail: `Invalid dockerRole '…': allowed values are member, editor, owner. ${LONG}`,
  requestId: `req-${n}`,
  action: null,
  eventId: null,
  target: null,
  unrecorded: n === 1 ? 4 : 0,
});
const accepted = { at: '2026-12-05T09:00:00Z', outcome: 'accepted', surface: 'scim', method: null, route: null, status: null, scimType: null, code: null, detail: null, requestId: 'req-a', action: 'user.created', eventId: 'e1', target: { type: 'user', id: 'u1' }, unrecorded: 0 };

describe('the connection’s activity log', () => {
  let requests: URL[];
  const serve = (answer: (url: URL) => unknown) => {
    requests = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const url = new URL(request.url);
        requests.push(url);
        return respond(200, answer(url));
      }),
    );
  };

  it('reads the refused requests of the connection, newest first, pages back by cursor and forth again, and shows everything on request', async () => {
    serve((url) => {
      if (url.searchParams.get('outcome') === 'all') return { connection: { id: 'c1', name: 'Okta' }, items: [accepted, refused(1)], nextCursor: null };
      if (url.searchParams.get('cursor') === 'page-2') return { connection: { id: 'c1', name: 'Okta' }, items: [refused(1)], nextCursor: null };
      return { connection: { id: 'c1', name: 'Okta' }, items: [refused(2)], nextCursor: 'page-2' };
    });
    render(<Activity connectionId="c1" />);
    const table = await screen.findByRole('region', { name: 'Refused requests' });
    expect(requests[0]!.pathname).toBe('/admin/v1/connections/c1/activity');
    expect(Object.fromEntries(requests[0]!.searchParams)).toEqual({ outcome: 'error', limit: '25' });
    const row = within(table).getAllByRole('row')[1]!;
    expect(row.textContent).toMatch(/refused 400.*SCIM.*PATCH \/scim\/v2\/Users\/:id.*Invalid dockerRole.*invalidValue.*req-2/);
    // The 200-character detail wraps inside its cell.
    expect(within(row).getByText(/Invalid dockerRole/).closest('td')!.className).toContain('wrap');

    await userEvent.click(screen.getByRole('button', { name: 'Older' }));
    await screen.findByText('req-1');
    expect(requests.at(-1)!.searchParams.get('cursor')).toBe('page-2');
    expect(screen.getByText(/4 similar refusals not recorded/)).toBeTruthy();
    // The last page: Older is off but keeps the focus; pressing it asks nothing.
    const older = screen.getByRole('button', { name: 'Older' });
    expect(older.getAttribute('aria-disabled')).toBe('true');
    expect(document.activeElement).toBe(older);
    const asked = requests.length;
    await userEvent.click(older);
    expect(requests).toHaveLength(asked);
    await userEvent.click(screen.getByRole('button', { name: 'Newer' }));
    await screen.findByText('req-2');
    expect(requests.at(-1)!.searchParams.has('cursor')).toBe(false);

    await userEvent.click(screen.getByRole('radio', { name: 'Refused and accepted' }));
    const all = await screen.findByRole('region', { name: 'Connection activity' });
    expect(requests.at(-1)!.searchParams.get('outcome')).toBe('all');
    expect(within(all).getAllByRole('row')[1]!.textContent).toMatch(/accepted.*user\.created.*user u1/);
  });

  it('says what will appear there when nothing has been refused yet', async () => {
    serve(() => ({ connection: { id: 'c1', name: 'Okta' }, items: [], nextCursor: null }));
    render(<Activity connectionId="c1" />);
    const empty = await screen.findByText(/No refused requests/);
    expect(empty.textContent).toMatch(/wrong or revoked token.*request id/);
    expect(screen.queryByRole('navigation', { name: 'Activity pages' })).toBeNull();
  });

  it('shows the server’s refusal with a retry', async () => {
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(respond(404, { error: { code: 'DMN_NOT_FOUND', message: "SSO connection 'c1' not found" } }))
      .mockResolvedValueOnce(respond(200, { connection: { id: 'c1', name: 'Okta' }, items: [refused(3)], nextCursor: null }));
    vi.stubGlobal('fetch', fetchMock);
    render(<Activity connectionId="c1" />);
    expect((await screen.findByRole('alert')).textContent).toContain("Activity not loaded: SSO connection 'c1' not found");
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await screen.findByText('req-3');
  });
});

describe('the Okta and Entra ID set-up panels', () => {
  const PUBLIC = 'https://doorman.example.com';
  const writeText = vi.fn(async (_: string) => undefined);
  beforeEach(() => {
    writeText.mockClear();
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
  });
  const connection = (type: 'saml' | 'oidc') => ({ id: 'c-1', name: LONG, type }) as Connection;
  const show = (type: 'saml' | 'oidc') =>
    render(
      <SessionContext.Provider value={{ publicUrl: PUBLIC, csrfToken: 'x', expiresInSeconds: 60, tokenId: 't' }}>
        <SetupPanels connection={connection(type)} />
      </SessionContext.Provider>,
    );
  /** The value shown beside a label, after copying it with its button. */
  const copied = async (label: string) => {
    writeText.mockClear();
    await userEvent.click(screen.getByRole('button', { name: `Copy ${label}` }));
    expect(writeText).toHaveBeenCalledTimes(1);
    const value = writeText.mock.calls[0]![0];
    expect(screen.getAllByText(value, { selector: 'code' }).length).toBeGreaterThan(0);
    return value;
  };
  const ATTR = 'urn:ietf:params:scim:schemas:extension:docker:2.0:User';

  it('SAML in Okta: ACS URL, entity id, attribute names, SCIM base URL and the extension namespace, each with a copy button', async () => {
    show('saml');
    expect(screen.getByRole('heading', { name: 'Set up in Okta' })).toBeTruthy();
    expect(await copied('Single sign-on URL')).toBe(`${PUBLIC}/sso/saml/acs?connection=c-1`);
    expect(await copied('Audience URI (SP Entity ID)')).toBe(`${PUBLIC}/sso/saml/metadata/c-1`);
    expect(await copied('Role attribute')).toBe('dockerRole');
    expect(await copied('Organization attribute')).toBe('dockerOrg');
    expect(await copied('Team attribute')).toBe('dockerTeam');
    expect(await copied('SCIM connector base URL')).toBe(`${PUBLIC}/scim/v2`);
    expect(await copied('Unique identifier field')).toBe('userName');
    expect(await copied('External namespace')).toBe(ATTR);
    expect(await copied('External name (dockerTeam)')).toBe('dockerTeam');
  });

  it('SAML in Entra ID: entity id, reply URL, claim names, tenant URL and the full SCIM attribute names', async () => {
    show('saml');
    const okta = screen.getByRole('button', { name: 'Okta' });
    expect(okta.getAttribute('aria-pressed')).toBe('true');
    await userEvent.click(screen.getByRole('button', { name: 'Entra ID' }));
    expect(screen.getByRole('heading', { name: 'Set up in Entra ID' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Entra ID' }).getAttribute('aria-pressed')).toBe('true');
    expect(await copied('Identifier (Entity ID)')).toBe(`${PUBLIC}/sso/saml/metadata/c-1`);
    expect(await copied('Reply URL (ACS URL)')).toBe(`${PUBLIC}/sso/saml/acs?connection=c-1`);
    expect(await copied('Role claim')).toBe('dockerRole');
    expect(await copied('Organization claim')).toBe('dockerOrg');
    expect(await copied('Team claim')).toBe('dockerTeam');
    expect(await copied('Tenant URL')).toBe(`${PUBLIC}/scim/v2`);
    for (const a of ['dockerRole', 'dockerOrg', 'dockerTeam']) expect(await copied(`Target attribute (${a})`)).toBe(`${ATTR}:${a}`);
  });

  it('OIDC: the redirect URL in both, and no SAML URL', async () => {
    show('oidc');
    expect(await copied('Sign-in redirect URI')).toBe(`${PUBLIC}/sso/oidc/callback`);
    await userEvent.click(screen.getByRole('button', { name: 'Entra ID' }));
    expect(await copied('Redirect URI')).toBe(`${PUBLIC}/sso/oidc/callback`);
    expect(screen.queryByText(/sso\/saml/)).toBeNull();
  });

  it('says so when the browser refuses the clipboard, instead of claiming it copied', async () => {
    writeText.mockRejectedValueOnce(new Error('denied'));
    show('saml');
    await userEvent.click(screen.getByRole('button', { name: 'Copy SCIM connector base URL' }));
    expect((await screen.findByText(/Not copied/)).textContent).toMatch(/select the text/);
  });
});

describe('domains and the keyboard focus', () => {
  it('after "Mark verified" the focus moves to the row’s Remove button, after Remove to the new-domain field', async () => {
    const calls: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        calls.push(`${request.method} ${new URL(request.url).pathname}`);
        return request.method === 'DELETE' ? new Response(null, { status: 204 }) : respond(200, { domain: 'example.com', verified: true });
      }),
    );
    const connection = { id: 'c1', domains: [{ domain: 'example.com', verified: false }] } as unknown as Connection;
    const onChanged = vi.fn();
    render(<Domains connection={connection} onChanged={onChanged} />);
    await userEvent.click(screen.getByRole('button', { name: 'Mark example.com verified' }));
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Remove example.com' })));
    expect(calls).toEqual(['POST /admin/v1/connections/c1/domains/example.com/verify']);
    expect(onChanged).toHaveBeenCalledTimes(1);
    await userEvent.click(screen.getByRole('button', { name: 'Remove example.com' }));
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByLabelText('Add a domain')));
    expect(calls.at(-1)).toBe('DELETE /admin/v1/connections/c1/domains/example.com');
  });
});
