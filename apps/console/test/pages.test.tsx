// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router';
import { OrgsPage } from '../src/pages/OrgsPage.tsx';
import { HealthPage } from '../src/pages/HealthPage.tsx';
import { respond } from './helpers.tsx';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});
const inRouter = (node: React.ReactNode) => render(<MemoryRouter>{node}</MemoryRouter>);

describe('loading, error and empty states', () => {
  it('Organizations: loading, then the server error with a retry that loads the list', async () => {
    const long = 'x'.repeat(200);
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(respond(503, { error: { code: 'DMN_UNAVAILABLE', message: 'database unavailable' } }))
      .mockResolvedValueOnce(respond(200, { orgs: [{ id: '1', name: 'acme', displayName: long, seatLimit: null, createdAt: '2026-12-04T10:00:00Z' }], total: 1 }));
    vi.stubGlobal('fetch', fetchMock);
    inRouter(<OrgsPage />);
    expect(screen.getByRole('status').textContent).toContain('Loading');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('database unavailable');
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect((await screen.findByRole('link', { name: 'acme' })).getAttribute('href')).toBe('/orgs/acme');
    // A long name sits in a cell that wraps.
    expect(screen.getByRole('cell', { name: long }).className).toContain('wrap');
  });

  it('Organizations: an empty list says what to do', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(respond(200, { orgs: [], total: 0 })));
    inRouter(<OrgsPage />);
    expect((await screen.findByText(/No organizations yet/)).textContent).toContain('Create the first one');
  });

  it('Health: not ready, with the failing check named, failed jobs and the dashboard link', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn().mockResolvedValue(
        respond(200, {
          ready: false,
          checks: { database: 'ok', redis: 'unreachable: connect ECONNREFUSED' },
          jobs: { driver: 'bullmq', queues: [{ queue: 'provisioning', waiting: 3, active: 1, delayed: 0, failed: 2, completed: 9 }], outboxPending: 5, outboxUnfinished: 1, failedJobs: 2 },
          jobDashboard: '/admin/queues',
        }),
      ),
    );
    inRouter(<HealthPage />);
    expect(await screen.findByText('not ready')).toBeTruthy();
    expect(screen.getByText('unreachable: connect ECONNREFUSED')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Open the job dashboard' }).getAttribute('href')).toBe('/admin/queues');
    expect(screen.getByText('5 not yet relayed')).toBeTruthy();
  });
});
