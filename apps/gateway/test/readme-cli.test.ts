import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '@doorman/core';
import { createTestMysqlDatabase, type TestDatabase } from '@doorman/model/testing';
import { PLUGIN_CATALOG, BUILTIN_PLUGINS } from '../src/catalog.ts';
import { runCli } from '../src/cli-program.ts';
import { loadStartupSettings } from '../src/startup.ts';
import { exampleArgv, examplesIn, placeholderKey, type CliExample } from './cli-examples.ts';

/**
 * Every CLI example the documentation shows (README.md, each package's README, docs/) runs, in the
 * order written, against a real gateway on a fresh MariaDB database per document, and must succeed.
 * Placeholders (`<connection id>`, `<IdP certificate>`, …) are filled from objects created first.
 *
 * Documenting a command with a new placeholder? Add it to `substitutions` below (names compare
 * without case, spaces, dashes or underscores).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ADMIN = 'readme-cli-admin-token-0123456789abcdef0123456789';
const ALL_PLUGINS = PLUGIN_CATALOG.map((p) => p.id).join(',');

interface Fixtures {
  orgId: string;
  connectionId: string;
  scimTokenId: string;
  scimToken: string;
  userId: string;
  adminTokenId: string;
  certificate: string;
}

const FIXTURE = { org: 'fixture-org', connection: 'fixture-idp', email: 'ann@example.com', team: 'platform' };

/** Placeholder → value. Keys are `placeholderKey(name)`. */
function substitutions(f: Fixtures): Record<string, string> {
  const table: Record<string, string> = {
    connectionid: f.connectionId,
    connection: FIXTURE.connection,
    connectionname: FIXTURE.connection,
    orgid: f.orgId,
    org: FIXTURE.org,
    organization: FIXTURE.org,
    orgname: FIXTURE.org,
    team: FIXTURE.team,
    tokenid: f.scimTokenId,
    scimtokenid: f.scimTokenId,
    token: f.scimToken,
    admintokenid: f.adminTokenId,
    userid: f.userId,
    email: FIXTURE.email,
    person: FIXTURE.email,
    idpcertificate: f.certificate,
    certificate: f.certificate,
  };
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [placeholderKey(k), v]));
}

/** A self-signed certificate's base64 body, as an IdP shows it (the connection refuses a fake one). */
function certificateBody(): string {
  const pem = execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', '/dev/null', '-subj', '/CN=Doorman docs test', '-days', '30'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  return pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
}

async function createFixtures(url: string, certificate: string): Promise<Fixtures> {
  const settings = loadStartupSettings({ DATABASE_URL: url, DOORMAN_PLUGINS: ALL_PLUGINS, ADMIN_BOOTSTRAP_TOKEN: ADMIN });
  const gateway = await buildGateway({ ...settings, catalog: PLUGIN_CATALOG, builtins: BUILTIN_PLUGINS, logger: pino({ level: 'silent' }) });
  try {
    const http = supertest(gateway.app.callback());
    const admin = async (path: string, body: unknown) => {
      const res = await http.post(`/admin/v1${path}`).set('Authorization', `Bearer ${ADMIN}`).send(body as object);
      if (res.status >= 300) throw new Error(`fixture ${path}: ${res.status} ${res.text}`);
      return res.body;
    };
    const org = await admin('/orgs', { name: FIXTURE.org });
    await admin(`/orgs/${FIXTURE.org}/teams`, { name: FIXTURE.team });
    const connection = await admin('/connections', {
      name: FIXTURE.connection,
      type: 'saml',
      orgIds: [FIXTURE.org],
      domains: ['fixture.example'],
      scimEnabled: true,
      idp: { entryPoint: 'https://idp.fixture.example/sso', idpIssuer: 'https://idp.fixture.example', idpCert: certificate },
    });
    const scimToken = await admin(`/connections/${connection.id}/scim-tokens`, { name: 'fixture' });
    const user = await http
      .post('/scim/v2/Users')
      .set('Authorization', `Bearer ${scimToken.token}`)
      .set('Content-Type', 'application/scim+json')
      .send({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: FIXTURE.email, emails: [{ value: FIXTURE.email, primary: true }], active: true });
    if (user.status !== 201) throw new Error(`fixture SCIM user: ${user.status} ${user.text}`);
    const adminToken = await admin('/admin-tokens', { name: 'fixture' });
    return { orgId: org.id, connectionId: connection.id, scimTokenId: scimToken.id, scimToken: scimToken.token, userId: user.body.id, adminTokenId: adminToken.id, certificate };
  } finally {
    await gateway.close();
  }
}

const examples = examplesIn(ROOT);
const byFile = new Map<string, CliExample[]>();
for (const e of examples) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);

it('finds the documented examples (the quick start at least)', () => {
  expect(examples.filter((e) => e.file === 'README.md').map((e) => e.rest.split(' ').slice(0, 2).join(' '))).toEqual(
    expect.arrayContaining(['orgs create', 'connections create', 'scim-tokens create', 'migrate']),
  );
});

const certificate = certificateBody();

describe.each([...byFile.keys()])('CLI examples in %s', (file) => {
  let db: TestDatabase;
  let values: Record<string, string>;
  beforeAll(async () => {
    db = await createTestMysqlDatabase();
    values = substitutions(await createFixtures(db.url, certificate));
  });
  afterAll(async () => {
    await db?.drop();
  });

  for (const example of byFile.get(file)!) {
    it(`${example.file}:${example.line}: ${example.text.slice(0, 100)}`, async () => {
      const argv = exampleArgv(example, values);
      let stdout = '';
      let stderr = '';
      const code = await runCli(argv, {
        env: { DATABASE_URL: db.url, DOORMAN_PLUGINS: ALL_PLUGINS, LOG_LEVEL: 'warn', INIT_CWD: ROOT },
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
      });
      if (code !== 0) {
        throw new Error(`${example.file}:${example.line} failed (exit ${code}): ${example.text}\nargv: ${JSON.stringify(argv)}\n${stderr}${stdout}`);
      }
      expect(stdout.length).toBeGreaterThan(0);
    });
  }
});
