/**
 * End-to-end harness: the real gateway process (`node --import tsx apps/gateway/src/main.ts`) on a
 * fresh MariaDB database and a private BullMQ prefix on the machine's Redis, with the console plugin
 * serving the built app (apps/console/dist), and Debian's Chromium driven by playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createTestMysqlDatabase, type MysqlTestDatabase } from '@doorman/model/testing';
import { deleteKeysUnder } from '@doorman/jobs/testing';
import { it } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps calling Google's hosts, which this
// machine's closed network refuses; --no-sandbox because CI runs as root.
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const ADMIN_TOKEN = `console-e2e-${randomUUID()}-${randomUUID()}`;

const MAIN = fileURLToPath(new URL('../../../gateway/src/main.ts', import.meta.url));
export const DIST = fileURLToPath(new URL('../../dist', import.meta.url));
/** Screenshots shown in the READMEs are written only when asked (SAVE_SCREENSHOTS=1). */
export const SCREENSHOT_DIR = fileURLToPath(new URL(process.env.SAVE_SCREENSHOTS ? '../../screenshots' : '../../test-results', import.meta.url));

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export interface Stack {
  base: string;
  page: Page;
  context: BrowserContext;
  output(): string;
  admin<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  scim<T = any>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** A statement on the gateway's database: only for what no API can set up (an SSO session without a reachable IdP). */
  sql<T = any>(statement: string, params?: unknown[]): Promise<T[]>;
  /** The viewport, from the top of the page, or with `from` scrolled to the top. */
  screenshot(name: string, from?: Locator): Promise<void>;
  close(): Promise<void>;
}

async function waitReady(base: string, child: ChildProcess, output: () => string) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`gateway exited during start-up:\n${output()}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`gateway did not become ready:\n${output()}`);
}

const json = async (response: Response) => {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
};

export async function startStack(): Promise<Stack> {
  if (!existsSync(`${DIST}/index.html`)) throw new Error('apps/console/dist is missing: the test script builds it first (vite build)');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (tooling/scripts/ensure-services.mjs does it)`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const db: MysqlTestDatabase = await createTestMysqlDatabase();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const prefix = `{doorman-console-${randomUUID()}}`;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: base,
      DATABASE_URL: db.url,
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      JOBS_PREFIX: prefix,
      ADMIN_BOOTSTRAP_TOKEN: ADMIN_TOKEN,
      DOORMAN_PLUGINS: 'token-auth,role-mapping,scim-users,scim-groups,audit,jit-provisioning,console',
      CONSOLE_ASSETS_DIR: DIST,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const output = () => out;
  let browser: Browser | undefined;
  try {
    await waitReady(base, child, output);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  } catch (err) {
    child.kill('SIGKILL');
    await db.drop();
    throw err;
  }
  // A laptop screen: the smallest the console is designed for.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: base });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const call = async (method: string, url: string, headers: Record<string, string>, body?: unknown) => {
    const response = await fetch(url, { method, headers: { ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: await json(response) };
  };
  return {
    base,
    page,
    context,
    output,
    admin: (method, path, body) => call(method, `${base}/admin/v1${path}`, { Authorization: `Bearer ${ADMIN_TOKEN}` }, body),
    scim: (token, method, path, body) => call(method, `${base}/scim/v2${path}`, { Authorization: `Bearer ${token}`, Accept: 'application/scim+json' }, body),
    sql: (statement, params) => db.query(statement, params),
    async screenshot(name, from) {
      if (from) await from.evaluate((el) => el.scrollIntoView({ block: 'start' }));
      else await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png`, fullPage: false });
    },
    async close() {
      await browser?.close();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await db.drop();
      await deleteKeysUnder(prefix);
    },
  };
}

/** Saves what the browser showed when a test failed (test-results/, not committed). */
export async function saveFailure(page: Page | undefined, name: string): Promise<string | undefined> {
  if (!page) return undefined;
  const dir = fileURLToPath(new URL('../../test-results', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const path = `${dir}/FAILED-${name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 80)}.png`;
  await page.screenshot({ path, fullPage: true }).catch(() => undefined);
  return path;
}

/**
 * The e2e tests are ordered steps on one stack: `step(name, body)` is an `it` that, when it fails, saves a
 * screenshot and prints the end of the gateway's output (the stack is read when the step runs).
 */
export function stepsOn(stack: () => Stack | undefined) {
  return (name: string, body: () => Promise<void>) =>
    it(name, async ({ onTestFailed }) => {
      onTestFailed(async () => {
        const file = await saveFailure(stack()?.page, name);
        console.error(`screenshot of the failure: ${file}\ngateway output:\n${stack()?.output().slice(-4000)}`);
      });
      await body();
    });
}
