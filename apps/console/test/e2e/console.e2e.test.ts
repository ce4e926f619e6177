/**
 * The console in real Chromium against a real gateway on MariaDB and Redis: an operator's path from
 * sign-in to sign-out. Steps share one gateway and one browser page, in order; a failing step saves
 * a screenshot under apps/console/test-results/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, saveFailure, startStack, type Stack } from './harness.ts';

let stack: Stack;
const LONG = `Acme ${'very-long-display-name-'.repeat(9)}`.slice(0, 200);

function step(name: string, body: () => Promise<void>) {
  it(name, async ({ onTestFailed }) => {
    onTestFailed(async () => {
      const file = await saveFailure(stack?.page, name);
      console.error(`screenshot of the failure: ${file}\ngateway output:\n${stack?.output().slice(-4000)}`);
    });
    await body();
  });
}

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
