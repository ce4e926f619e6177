/**
 * The console in real Chromium against a real gateway on MariaDB and Redis: an operator's path from
 * sign-in to sign-out. Steps share one gateway and one browser page, in order; a failing step saves
 * a screenshot under apps/console/test-results/.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { ADMIN_TOKEN, startStack, stepsOn, type Stack } from './harness.ts';

let stack: Stack;
let connectionId = '';
let scimToken = '';
let scimUserId = '';
let personId = '';
const LONG = `Acme ${'very-long-display-name-'.repeat(9)}`.slice(0, 200);

const step = stepsOn(() => stack);

/** The page never scrolls sideways: long names wrap inside their boxes. */
async function expectNoHorizontalOverflow() {
  const { scroll, client } = await stack.page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(scroll).toBeLessThanOrEqual(client);
}

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

describe('the admin console in Chromium', () => {
  step('refuses a wrong admin token and signs in with a right one, keeping no token in the browser', async () => {
    const { page } = stack;
    await page.goto('/console/');
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
    await stack.screenshot('sign-in');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Organizations', level: 1 }).waitFor();
    expect(page.url()).toBe(`${stack.base}/console/orgs`);

    const cookies = await stack.context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'doorman_console', httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookies[0]!.value).not.toContain(ADMIN_TOKEN);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    expect(stored).not.toContain(ADMIN_TOKEN);
    expect(stored).not.toContain(cookies[0]!.value);
  });

  step('creates an organization whose 200-character name does not break the layout', async () => {
    const { page } = stack;
    await page.getByLabel('Name', { exact: true }).fill('acme');
    await page.getByLabel('Display name (optional)').fill(LONG);
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.getByRole('link', { name: 'acme', exact: true }).waitFor();
    await page.getByRole('cell', { name: LONG }).waitFor();
    await expectNoHorizontalOverflow();
    await stack.screenshot('organizations');
    // A refused name is explained, naming the field.
    await page.getByLabel('Name', { exact: true }).fill('Bad Name');
    await page.getByLabel('Name', { exact: true }).evaluate((el: HTMLInputElement) => el.removeAttribute('pattern'));
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.getByRole('alert').filter({ hasText: 'name' }).waitFor();
  });

  step('creates and renames a team on the organization page', async () => {
    const { page } = stack;
    await page.getByRole('link', { name: 'acme', exact: true }).click();
    await page.getByRole('heading', { name: LONG, level: 1 }).waitFor();
    await page.getByLabel('New team name').fill('platform');
    await page.getByRole('button', { name: 'Create team' }).click();
    await page.getByRole('button', { name: 'Rename team platform' }).click();
    await page.getByLabel('New name for platform').fill('platform-eng');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('button', { name: 'Rename team platform-eng' }).waitFor();
    await expectNoHorizontalOverflow();
    const teams = await stack.admin('GET', '/orgs/acme/teams');
    expect(teams.body.teams.map((t: { name: string }) => t.name)).toEqual(['platform-eng']);
  });

  step('creates an OIDC connection, completes its IdP settings, verifies a domain, enables SCIM and issues a token shown once', async () => {
    const { page } = stack;
    await page.getByRole('link', { name: 'SSO connections' }).click();
    await page.getByRole('heading', { name: 'SSO connections', level: 1 }).waitFor();
    await page.getByLabel('Connection name').fill('Okta');
    await page.getByLabel('Protocol').selectOption('oidc');
    await page.getByLabel('Email domain (optional)').fill('example.com');
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByRole('heading', { name: 'Okta', level: 1 }).waitFor();
    connectionId = page.url().split('/').pop()!;

    await page.getByLabel('Issuer URL').fill('https://example.okta.com');
    await page.getByLabel('Client ID').fill('doorman-client');
    await page.getByLabel('Client secret').fill('s3cr3t-client-secret');
    await page.getByRole('button', { name: 'Save identity provider' }).click();
    await page.getByText('SSO settings complete').waitFor();

    await page.getByRole('button', { name: 'Mark example.com verified' }).click();
    await page.getByRole('cell', { name: 'verified', exact: true }).waitFor();

    await page.getByLabel('SCIM provisioning').check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('region', { name: 'Provisioning settings' }).getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.getByText('SCIM is disabled on this connection').waitFor({ state: 'detached' });

    await page.getByRole('button', { name: 'Issue SCIM token' }).click();
    scimToken = (await page.getByTestId('new-token').textContent())!.trim();
    expect(scimToken).toMatch(/^dmn_scim_/);
    await page.getByText(`${stack.base}/scim/v2`, { exact: true }).first().waitFor();
    await expectNoHorizontalOverflow();
    await stack.screenshot('connection');

    const connection = await stack.admin('GET', `/connections/${connectionId}`);
    expect(connection.body).toMatchObject({ scimEnabled: true, domains: [{ domain: 'example.com', verified: true }], ssoSettingsComplete: true });
    // The token shown once is not on the page after a reload.
    await page.reload();
    await page.getByRole('heading', { name: 'Okta', level: 1 }).waitFor();
    expect(await page.content()).not.toContain(scimToken);
    await page.getByRole('button', { name: 'Set up in Okta' }).or(page.getByRole('heading', { name: 'Set up in Okta' })).first().waitFor();
  });

  step('a person pushed by a SCIM client appears in the organization with their role', async () => {
    const { page } = stack;
    const created = await stack.scim(scimToken, 'POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:docker:2.0:User'],
      userName: 'alice@example.com',
      active: true,
      'urn:ietf:params:scim:schemas:extension:docker:2.0:User': { dockerRole: 'editor' },
    });
    expect(created.status).toBe(201);
    scimUserId = created.body.id;
    await page.getByRole('link', { name: 'Organizations' }).click();
    await page.getByRole('link', { name: 'acme', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: 'alice@example.com' });
    await row.waitFor();
    expect(await row.textContent()).toContain('editor');
    expect(await row.textContent()).toContain('scim');
    await expectNoHorizontalOverflow();
    await stack.screenshot('organization');
    // The same person found by search, with their membership's provenance.
    await page.getByRole('link', { name: 'People' }).click();
    await page.getByLabel('Email, username, name or id').fill('alice');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'alice@example.com' }).click();
    const membership = page.getByRole('region', { name: 'Organization memberships' }).getByRole('row').filter({ hasText: 'acme' });
    await membership.waitFor();
    expect(await membership.textContent()).toMatch(/editor.*SCIM attribute.*Okta/);
    const state = page.getByRole('region', { name: 'State per connection' }).getByRole('row').filter({ hasText: 'Okta' });
    expect(await state.textContent()).toMatch(/active.*alice@example\.com/);
    await expectNoHorizontalOverflow();
  });

  step('ends the person’s SSO sessions from their page, and re-runs the connection’s sync there', async () => {
    const { page } = stack;
    const found = await stack.admin('GET', '/people?q=alice');
    personId = found.body.people[0].id;
    // Two open sessions as jit-provisioning records a sign-in (the test's IdP is not reachable from
    // here, so the rows are written directly; UTC, as the gateway's data source reads them).
    const utc = (d: Date) => d.toISOString().slice(0, 23).replace('T', ' ');
    for (let i = 0; i < 2; i++) {
      await stack.sql('INSERT INTO sso_sessions (id, user_id, connection_id, created_at, expires_at, ended_at) VALUES (?, ?, ?, ?, ?, NULL)', [
        randomUUID(),
        personId,
        connectionId,
        utc(new Date(Date.now() - (i + 1) * 60_000)),
        utc(new Date(Date.now() + 8 * 3_600_000)),
      ]);
    }
    await page.reload();
    const sessions = page.getByRole('region', { name: 'Sessions' });
    await sessions.getByRole('region', { name: 'Open sessions' }).getByRole('row').nth(2).waitFor();
    await sessions.getByRole('button', { name: 'End sessions…' }).click();
    const confirm = sessions.getByRole('alertdialog');
    expect(await confirm.textContent()).toContain('End all 2 open SSO sessions of alice@example.com?');
    // The confirmation has the focus: Enter confirms from the keyboard.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Yes, end sessions');
    await page.keyboard.press('Enter');
    await sessions.getByRole('status').filter({ hasText: '2 sessions ended.' }).waitFor();
    await sessions.getByText('No open SSO session').waitFor();
    const open = await stack.sql<{ n: number }>('SELECT COUNT(*) AS n FROM sso_sessions WHERE user_id = ? AND ended_at IS NULL', [personId]);
    expect(Number(open[0]!.n)).toBe(0);
    const audit = await stack.admin('GET', `/audit?action=sso.sessions_ended&targetId=${personId}`);
    expect(audit.body.events).toHaveLength(1);
    expect(audit.body.events[0]).toMatchObject({ actor: { type: 'admin_token' }, changes: { sessions: { after: 2 }, reason: { after: 'admin' } } });

    // Re-run sync: the role-mapping job runs on BullMQ and the page shows its result.
    const sync = page.getByRole('region', { name: 'Re-run sync' });
    await sync.getByRole('button', { name: 'Re-run sync' }).click();
    await sync.getByText(/finished: 1 person checked, 0 changed, 0 refused/).waitFor({ timeout: 30_000 });
    await expectNoHorizontalOverflow();
    await stack.screenshot('person-actions', page.getByRole('region', { name: 'Sessions' }));
  });

  step('a SCIM request Doorman refused appears in the connection’s error log', async () => {
    const { page } = stack;
    const bad = await stack.scim(scimToken, 'PATCH', `/Users/${scimUserId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'urn:ietf:params:scim:schemas:extension:docker:2.0:User:dockerRole', value: 'superuser' }],
    });
    expect(bad.status).toBe(400);
    // The recorder writes every 500 ms: wait until the admin API has it.
    for (let i = 0; i < 40; i++) {
      if ((await stack.admin('GET', `/connections/${connectionId}/activity?outcome=error`)).body.items.length) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await page.goto(`/console/connections/${connectionId}`);
    const activity = page.getByRole('region', { name: 'Activity and errors' });
    const row = activity.getByRole('region', { name: 'Refused requests' }).getByRole('row').filter({ hasText: 'PATCH' });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/refused 400.*SCIM.*\/scim\/v2\/Users\/:id.*dockerRole/);
    // The value sent is not repeated in the log.
    expect(await activity.textContent()).not.toContain('superuser');
    await activity.getByRole('radio', { name: 'Refused and accepted' }).check();
    await activity.getByRole('region', { name: 'Connection activity' }).getByText('user.created').first().waitFor();
    await activity.getByRole('radio', { name: 'Refused requests only' }).check();
    await row.waitFor();
    // Keyboard focus is visible: Tab from the filter reaches the log's scrolling region, outlined.
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      return { label: el.getAttribute('aria-label'), outline: getComputedStyle(el).outlineStyle, width: getComputedStyle(el).outlineWidth };
    });
    expect(focused).toEqual({ label: 'Refused requests', outline: 'solid', width: '3px' });
    await expectNoHorizontalOverflow();
    await stack.screenshot('connection-activity', activity);
  });

  step('a connection with a 200-character name: its page, set-up panels and delete confirmation stay inside the window', async () => {
    const { page } = stack;
    const long = `Okta ${'production-tenant-'.repeat(12)}`.slice(0, 200);
    expect((await stack.admin('PATCH', `/connections/${connectionId}`, { name: long })).status).toBe(200);
    try {
      await page.reload();
      await page.getByRole('heading', { name: long, level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Entra ID' }).click();
      await page.getByRole('heading', { name: 'Set up in Entra ID' }).waitFor();
      await page.getByRole('button', { name: 'Delete connection…' }).click();
      const confirm = page.getByRole('alertdialog');
      expect(await confirm.textContent()).toContain(long);
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Yes, delete');
      await expectNoHorizontalOverflow();
      await page.keyboard.press('Escape');
      await confirm.waitFor({ state: 'detached' });
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Delete connection…');
      // The person's page names the connection in its sync section, wrapping.
      await page.goto(`/console/people/${personId}`);
      await page.getByRole('region', { name: 'Re-run sync' }).getByText(long).waitFor();
      await expectNoHorizontalOverflow();
    } finally {
      await stack.admin('PATCH', `/connections/${connectionId}`, { name: 'Okta' });
    }
  });

  step('deactivating the person through SCIM removes their membership; the person page explains why, and so does the audit trail', async () => {
    const { page } = stack;
    const off = await stack.scim(scimToken, 'PATCH', `/Users/${scimUserId}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(off.status).toBe(200);
    // The deactivation runs as a BullMQ job: reload until the member is gone.
    for (let i = 0; i < 40; i++) {
      const members = await stack.admin('GET', '/orgs/acme/members');
      if (members.body.total === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await page.goto('/console/orgs/acme');
    await page.getByText('No members yet').waitFor();
    // The person page says why: the explain chain from the SCIM request to the deactivation.
    await page.goto(`/console/people/${personId}`);
    const chain = page.getByRole('list', { name: 'Explain chain' });
    await chain.waitFor();
    await chain.getByText(/deactivat/i).first().waitFor();
    expect(await page.getByRole('region', { name: 'State per connection' }).textContent()).toContain('deactivated');
    await expectNoHorizontalOverflow();
    await stack.screenshot('person');
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByLabel('Connection (id or name)').fill('Okta');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('cell', { name: /user\.deactivated|member\.removed/ }).first().waitFor();
    await page.getByText('events checked').waitFor();
    await expectNoHorizontalOverflow();
    await stack.screenshot('audit');
  });

  step('previews role mapping as a form', async () => {
    const { page } = stack;
    await page.getByRole('link', { name: 'Role mapping' }).click();
    await page.getByLabel('dockerRole').fill('owner');
    await page.getByRole('button', { name: 'Preview' }).click();
    const result = page.getByLabel('Preview result');
    await result.waitFor();
    expect(await result.textContent()).toContain('owner');
    expect(await result.textContent()).toContain('acme');
  });

  step('shows health and opens the job dashboard with the same session', async () => {
    const { page } = stack;
    await page.getByRole('link', { name: 'Health' }).click();
    await page.getByText('ready', { exact: true }).waitFor();
    await page.getByRole('cell', { name: 'provisioning' }).waitFor();
    await stack.screenshot('health');
    await page.getByRole('link', { name: 'Open the job dashboard' }).click();
    await page.waitForURL(/\/admin\/queues/);
    await page.getByRole('link', { name: 'provisioning' }).first().click();
    await page.getByText(/completed/i).first().waitFor();
    expect(await page.title()).toContain('Doorman jobs');
    await stack.screenshot('job-dashboard');
    await page.goto('/console/orgs');
    await page.getByRole('heading', { name: 'Organizations', level: 1 }).waitFor();
  });

  step('signs out: the session ends on the server too', async () => {
    const { page } = stack;
    const [cookie] = await stack.context.cookies();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Doorman' }).waitFor();
    expect(await stack.context.cookies()).toHaveLength(0);
    const replay = await fetch(`${stack.base}/admin/v1/orgs`, { headers: { Cookie: `${cookie!.name}=${cookie!.value}` } });
    expect(replay.status).toBe(401);
  });
});
