/**
 * Explain end to end on MariaDB (docs/people-and-explain.md): a person provisioned by SCIM, moved by a
 * SCIM group through a group mapping rule, signed in through another connection, deactivated (the job
 * run from the outbox) and refused at sign-in. `GET /admin/v1/people/:person/explain` shows each step
 * with its audit event id (responses are checked against the OpenAPI document by the test gateway), the
 * events verify against their hash chains, and `doorman explain` prints the same chain.
 * EXPLAIN_CAPTURE=<file> writes the CLI's output there (the README's example).
 */
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobDefinition } from '@doorman/core';
import { auditPlugin } from '@doorman/plugin-audit';
import { jitProvisioningPlugin } from '@doorman/plugin-jit-provisioning';
import { authnRequestId, b64, CookieJar, createConnection, makeIdpKeys, samlResponseXml, signSaml, spUrls } from '@doorman/plugin-jit-provisioning/testing';
import { peoplePlugin } from '@doorman/plugin-people';
import { scimGroupsPlugin } from '@doorman/plugin-scim-groups';
import { newUser, startScimTestBed, type ScimTestBed } from '@doorman/plugin-scim-users/testing';
import { runCli } from '../src/cli-program.ts';
import { PATCH_OP } from './scim-tenant.ts';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const idp = makeIdpKeys();
let bed: ScimTestBed;
let c: string;
const domain = `${randomUUID().slice(0, 8)}.example.com`;
const email = `ann@${domain}`;
let scimId: string;

const db = () => bed.t.gateway.db;
async function signInThroughC() {
  const login = await bed.t.http.get('/sso/login').query({ email });
  expect(login.status, `${JSON.stringify(login.body)} ${login.text?.slice(0, 300)}`).toBe(302);
  const browser = new CookieJar().absorb(login);
  const urls = spUrls(bed.t.gateway.config.publicUrl, c);
  const xml = signSaml(samlResponseXml({ acsUrl: urls.acsUrl, audience: urls.entityId, nameId: email, inResponseTo: authnRequestId(login.headers.location) }), idp);
  return bed.t.http.post(`/sso/saml/acs?connection=${c}`).set('Cookie', browser.header()).type('form').send({ SAMLResponse: b64(xml) });
}

beforeAll(async () => {
  bed = await startScimTestBed({
    plugins: [scimGroupsPlugin, auditPlugin, peoplePlugin, jitProvisioningPlugin],
    pluginSettings: { 'jit-provisioning': { sessionSecret: 'explain-test-secret-0123456789abcdef0123' } },
  });
  await bed.t.admin('patch', `/admin/v1/connections/${bed.a.connectionId}`).send({ deprovisioningScope: 'organization' });
  c = await createConnection(db(), { type: 'saml', name: 'Acme SSO', orgIds: [bed.orgs.acme!], defaultOrgId: bed.orgs.acme!, domains: [{ domain, verified: true }], idp: { entryPoint: 'https://idp.example.test/sso', idpCert: idp.cert } });

  // 1. Provisioned by SCIM (Okta A: acme, default team Everyone).
  const created = await bed.scim(bed.a, 'post', '/Users').send(newUser(email, { externalId: '00u-ann' }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  scimId = created.body.id;
  // 2. Moved by a group: a group mapping rule gives "Platform Admins" team platform as editor in acme.
  const rule = await bed.t.admin('post', `/admin/v1/connections/${bed.a.connectionId}/group-rules`).send({ groupName: 'Platform Admins', org: 'acme', team: 'platform', role: 'editor' });
  expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  const group = await bed.scim(bed.a, 'post', '/Groups').send({ schemas: [GROUP], displayName: 'Platform Admins', members: [{ value: scimId }] });
  expect(group.status, JSON.stringify(group.body)).toBe(201);
  // 3. Signs in through Acme SSO (a session to end).
  expect((await signInThroughC()).status).toBe(200);
  // 4. Deactivated by SCIM; the deactivation job runs from the outbox.
  const off = await bed.scim(bed.a, 'patch', `/Users/${scimId}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] });
  expect(off.status, JSON.stringify(off.body)).toBe(200);
  const [outbox] = await db().query("SELECT job_id AS jobId, payload FROM outbox WHERE job_name = 'deactivate-user' AND payload LIKE ?", [`%${scimId}%`]);
  const job = bed.t.gateway.jobs.definitions.get('provisioning/deactivate-user') as JobDefinition;
  const payload = typeof outbox.payload === 'string' ? JSON.parse(outbox.payload) : outbox.payload;
  await job.process(job.schema.parse(payload), { id: outbox.jobId, attemptsMade: 0, logger: bed.t.gateway.logger, updateProgress: async () => {} });
  // 5. Refused at sign-in through Acme SSO.
  expect((await signInThroughC()).status).toBe(403);
});
afterAll(async () => bed?.t.close());

type Step = { n: number; kind: string; action: string; eventId: string; follows: string | null; jobId: string | null; requestId: string | null; details: Record<string, any>; summary: string };
const explain = (query: Record<string, string> = {}) => bed.t.admin('get', `/admin/v1/people/${encodeURIComponent(email)}/explain`).query(query);

describe('GET /admin/v1/people/:person/explain', () => {
  it('shows each step, in causal order, with its audit event id', async () => {
    const res = await explain({ org: 'acme' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const chain: Step[] = res.body.chain;
    const steps = chain.map((s) => `${s.kind} ${s.action}`);
    const at = (kind: string, action: string, from = 0) => steps.indexOf(`${kind} ${action}`, from);
    // SCIM request → decision → membership added (default organization) and team Everyone.
    const created = at('idp_request', 'user.created');
    expect(created).toBeGreaterThanOrEqual(0);
    expect(steps.slice(created + 1, created + 4)).toEqual(['decision member.added', 'change member.added', 'change team_member.added']);
    expect(chain[created + 2]!.details.rule).toBe('defaultOrganization');
    // The group request → decision → role set by the group's rule, team platform added.
    const moved = at('idp_request', 'group.members_added', created);
    expect(moved).toBeGreaterThan(created);
    const byGroup = chain.slice(moved + 1).filter((s) => s.follows === chain[moved]!.eventId && s.kind === 'change');
    expect(byGroup.map((s) => `${s.action}:${s.details.rule}`)).toEqual(expect.arrayContaining(['member.role_changed:groupRole', 'team_member.added:group']));
    expect(byGroup.find((s) => s.action === 'team_member.added')!.details.group).toMatchObject({ name: 'Platform Admins' });
    // Deactivation → sessions ended (same request) → the job: memberships removed, naming the job and the request.
    const deactivated = at('deactivation', 'user.deactivated', moved);
    const d = chain[deactivated]!;
    expect(steps[deactivated + 1]).toBe('sessions_ended sso.sessions_ended');
    expect(chain[deactivated + 1]!.follows).toBe(d.eventId);
    const jobStep = chain[at('job', 'user.deprovisioned', deactivated)]!;
    expect(jobStep).toMatchObject({ follows: d.eventId, requestId: d.requestId, jobId: expect.stringMatching(/^deactivate-user\./) });
    expect(chain.filter((s) => s.jobId === jobStep.jobId && s.kind === 'change').map((s) => s.action)).toEqual(expect.arrayContaining(['member.removed', 'team_member.removed']));
    // Refused at sign-in, with its reason; the why-not side lists the deactivation and the refusal.
    const refused = chain[at('refused_sign_in', 'sso.sign_in_denied', deactivated)]!;
    expect(refused.details).toMatchObject({ reason: 'deprovisioned', protocol: 'saml' });
    expect(res.body.whyNot).toEqual(expect.arrayContaining([d.n, refused.n]));
    expect(res.body.now.summary).toBe('not in acme');

    // Every step's event exists and its chain verifies.
    const ids = [...new Set(chain.map((s) => s.eventId))];
    const rows = await db().query(`SELECT id, org_id AS orgId FROM audit_events WHERE id IN (${ids.map(() => '?').join(',')})`, ids);
    expect(rows).toHaveLength(ids.length);
    for (const orgId of [bed.orgs.acme!, null]) {
      const verified = await bed.t.admin('post', '/admin/v1/audit/verify').send(orgId ? { orgId } : {});
      expect(verified.body, JSON.stringify(verified.body)).toMatchObject({ ok: true });
    }
  });

  it('filters by team (by name within the organization)', async () => {
    const res = await explain({ org: 'acme', team: 'platform' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const teamChanges = res.body.chain.filter((s: Step) => s.action.startsWith('team_member.'));
    expect(teamChanges.map((s: Step) => s.action)).toEqual(['team_member.added', 'team_member.removed']);
    expect(res.body.now.summary).toBe('not in team platform');
  });

  it.each<[string, Record<string, string>, number, string]>([
    ['an unknown organization', { org: 'nope' }, 404, 'org'],
    ['an unknown team', { org: 'acme', team: 'nope' }, 404, 'team'],
    ['an empty team', { team: '' }, 400, 'team'],
    ['an unknown parameter', { colour: 'red' }, 400, 'colour'],
  ])('%s: %i naming the field', async (_name, query, status, field) => {
    const res = await explain(query);
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body.error).toMatchObject({ field, code: status === 404 ? 'DMN_NOT_FOUND' : 'DMN_INPUT_INVALID' });
  });

  it('404s an unknown person with a code', async () => {
    const res = await bed.t.admin('get', '/admin/v1/people/nobody@example.com/explain');
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ field: 'person', code: 'DMN_NOT_FOUND' });
  });
});

describe('doorman explain', () => {
  it('prints the numbered chain with times and event ids; --json prints the API body', async () => {
    const run = async (argv: string[]) => {
      let out = '';
      let err = '';
      const code = await runCli(argv, { env: { DATABASE_URL: bed.t.gateway.config.databaseUrl, LOG_LEVEL: 'error' }, stdout: (s) => (out += s), stderr: (s) => (err += s) });
      return { code, out, err };
    };
    const human = await run(['explain', email, '--org', 'acme']);
    expect(human.code, human.err).toBe(0);
    const json = await run(['explain', email, '--org', 'acme', '--json']);
    expect(json.code, json.err).toBe(0);
    const body = JSON.parse(json.out);
    expect(human.out).toContain(`${email} (${body.person.id}), organization acme`);
    for (const s of body.chain as Step[]) expect(human.out).toMatch(new RegExp(`\\b${s.n}\\. \\d{4}-\\d\\d-\\d\\d [^\\n]*\\[${s.eventId}\\]`));
    expect(human.out).toContain('Why not:');
    if (process.env.EXPLAIN_CAPTURE) writeFileSync(process.env.EXPLAIN_CAPTURE, human.out);
  });
});
