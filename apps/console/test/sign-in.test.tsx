// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { SignInPage } from '../src/pages/SignInPage.tsx';
import { admin, call } from '../src/api/client.ts';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const respond = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('SignInPage', () => {
  it('posts the token once, then drops it and sends the CSRF token (not the admin token) on later writes', async () => {
    const fetchMock = vi.fn(async (_request: Request) => respond(201, { csrfToken: 'csrf-1', expiresInSeconds: 1800, tokenId: 'bootstrap' }));
    vi.stubGlobal('fetch', fetchMock);
    const onSignedIn = vi.fn();
    render(<SignInPage onSignedIn={onSignedIn} />);
    const input = screen.getByLabelText('Admin token');
    expect(input.getAttribute('type')).toBe('password');
    await userEvent.type(input, 'secret-admin-token');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(onSignedIn).toHaveBeenCalledWith({ csrfToken: 'csrf-1', expiresInSeconds: 1800, tokenId: 'bootstrap' });
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const signInRequest = fetchMock.mock.calls[0]![0];
    expect(new URL(signInRequest.url).pathname).toBe('/console/api/session');
    expect(signInRequest.method).toBe('POST');
    expect(await signInRequest.json()).toEqual({ token: 'secret-admin-token' });
    expect((input as HTMLInputElement).value).toBe('');
    expect(JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie).not.toContain('secret-admin-token');

    fetchMock.mockResolvedValueOnce(respond(201, { id: 'o1' }));
    await call(admin.POST('/orgs', { body: { name: 'acme' } }));
    const write = fetchMock.mock.calls[1]![0];
    expect(new URL(write.url).pathname).toBe('/admin/v1/orgs');
    expect(write.headers.get('X-CSRF-Token')).toBe('csrf-1');
    expect(JSON.stringify([...write.headers])).not.toContain('secret-admin-token');
  });

  it('shows the server’s reason when the token is refused, and the button is disabled while empty', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => respond(401, { error: { code: 'DMN_ADMIN_TOKEN_INVALID', message: 'this admin token is not valid (unknown or revoked)', field: 'token' } })));
    render(<SignInPage onSignedIn={() => undefined} />);
    expect(screen.getByRole('button', { name: 'Sign in' })).toHaveProperty('disabled', true);
    await userEvent.type(screen.getByLabelText('Admin token'), 'wrong');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('this admin token is not valid');
    expect(alert.textContent).toContain('field: token');
  });

  it('explains a network failure instead of failing silently', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    render(<SignInPage onSignedIn={() => undefined} />);
    await userEvent.type(screen.getByLabelText('Admin token'), 'x');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toContain('could not be reached');
  });
});

describe('SignInPage: organization owners through SSO', () => {
  const ownerSession = { csrfToken: 'csrf-2', expiresInSeconds: 1800, tokenId: null, owner: { userId: 'u1', email: 'ann@acme.example', fullName: null, organizations: [{ id: 'o1', name: 'acme' }] } };

  it('sends the browser to the SSO start with the email, and never posts an admin token', async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
    const navigate = vi.fn();
    render(<SignInPage onSignedIn={() => undefined} navigate={navigate} />);
    await userEvent.type(screen.getByLabelText('Work email'), ' ann@acme.example ');
    await userEvent.click(screen.getByRole('button', { name: 'Continue with SSO' }));
    expect(navigate).toHaveBeenCalledWith('/console/api/sso?email=ann%40acme.example');
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('back from the IdP (?sso=return): opens the owner session once and drops the marker from the address', async () => {
    window.history.replaceState(null, '', '/console/?sso=return');
    const fetchMock = vi.fn(async (_request: Request) => respond(201, ownerSession));
    vi.stubGlobal('fetch', fetchMock);
    const onSignedIn = vi.fn();
    render(<SignInPage onSignedIn={onSignedIn} />);
    await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalledWith(ownerSession));
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const request = fetchMock.mock.calls[0]![0];
    expect(new URL(request.url).pathname).toBe('/console/api/session/sso');
    expect(request.method).toBe('POST');
    expect(window.location.search).toBe('');
  });

  it('shows why when the person owns no organization', async () => {
    window.history.replaceState(null, '', '/console/?sso=return');
    vi.stubGlobal('fetch', vi.fn(async () => respond(403, { error: { code: 'DMN_CONSOLE_NOT_AN_OWNER', message: 'the console is for organization owners: you do not own an organization here' } })));
    render(<SignInPage onSignedIn={() => undefined} />);
    expect((await screen.findByRole('alert')).textContent).toContain('you do not own an organization');
  });
});

describe('navigation for an organization owner', () => {
  it('shows only what an owner can use, and who is signed in', async () => {
    const { MemoryRouter } = await import('react-router');
    const { Layout } = await import('../src/components/Layout.tsx');
    const owner = { csrfToken: 'c', expiresInSeconds: 1, tokenId: null, publicUrl: 'http://x', owner: { userId: 'u1', email: 'ann@acme.example', fullName: null, organizations: [{ id: 'o1', name: 'acme' }] } };
    render(
      <MemoryRouter>
        <Layout session={owner} onSignOut={() => undefined}>
          <p>page</p>
        </Layout>
      </MemoryRouter>,
    );
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect([...nav.querySelectorAll('a')].map((a) => a.textContent)).toEqual(['Organizations', 'SSO connections', 'People']);
    expect(screen.getByText('ann@acme.example').getAttribute('title')).toBe('Owner of acme');
    cleanup();
    render(
      <MemoryRouter>
        <Layout session={{ ...owner, owner: null, tokenId: 'bootstrap' }} onSignOut={() => undefined}>
          <p>page</p>
        </Layout>
      </MemoryRouter>,
    );
    expect(screen.getByRole('navigation', { name: 'Main' }).querySelectorAll('a')).toHaveLength(6);
  });
});
