// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { SignInPage } from '../src/pages/SignInPage.tsx';
import { api } from '../src/api/client.ts';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const respond = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('SignInPage', () => {
  it('posts the token once, then drops it and sends the CSRF token (not the admin token) on later writes', async () => {
    const fetchMock = vi.fn(async (_url: string, _init?: RequestInit) => respond(201, { csrfToken: 'csrf-1', expiresInSeconds: 1800, tokenId: 'bootstrap' }));
    vi.stubGlobal('fetch', fetchMock);
    const onSignedIn = vi.fn();
    render(<SignInPage onSignedIn={onSignedIn} />);
    const input = screen.getByLabelText('Admin token');
    expect(input.getAttribute('type')).toBe('password');
    await userEvent.type(input, 'secret-admin-token');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(onSignedIn).toHaveBeenCalledWith({ csrfToken: 'csrf-1', expiresInSeconds: 1800, tokenId: 'bootstrap' });
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(fetchMock.mock.calls[0]![0]).toBe('/console/api/session');
    expect(JSON.parse(String(fetchMock.mock.calls[0]![1]!.body))).toEqual({ token: 'secret-admin-token' });
    expect((input as HTMLInputElement).value).toBe('');
    expect(JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie).not.toContain('secret-admin-token');

    fetchMock.mockResolvedValueOnce(respond(201, { id: 'o1' }));
    await api.post('/admin/v1/orgs', { name: 'acme' });
    const headers = fetchMock.mock.calls[1]![1]!.headers as Record<string, string>;
    expect(headers['X-CSRF-Token']).toBe('csrf-1');
    expect(JSON.stringify(headers)).not.toContain('secret-admin-token');
  });

  it('shows the server’s reason when the token is refused, and the button is disabled while empty', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => respond(401, { error: { code: 'unauthenticated', message: 'this admin token is not valid (unknown or revoked)', field: 'token' } })));
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
