/**
 * Fixtures for integration tests: an IdP key pair, SAML responses, a world. Exported as
 * `@doorman/plugin-jit-provisioning/testing` for other packages' end-to-end tests (never by the plugin itself).
 */
import { generateKeyPairSync, randomUUID, sign, X509Certificate } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import type { DataSource } from 'typeorm';
// xml-crypto as node-saml ships it: sign the assertion (and optionally the response) like Okta/Entra.
import { signXml } from '@node-saml/node-saml/lib/xml.js';
import {
  ConnectionDomainEntity,
  ConnectionOrgEntity,
  ConnectionUserEntity,
  recordConnectionUsersChange,
  OrganizationEntity,
  OrgMembershipEntity,
  SsoConnectionEntity,
  UserEntity,
  type OrgRole,
  type SamlSettings,
  type OidcSettings,
} from '@doorman/model';

// ---- A self-signed X.509 certificate, DER-encoded by hand (node:crypto cannot create one) ----
function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => der(0x31, Buffer.concat(parts));
const int = (value: Buffer) => der(0x02, value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a! + b!];
  for (const v of rest) {
    const chunk = [v & 0x7f];
    for (let x = v >> 7; x > 0; x >>= 7) chunk.unshift((x & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}
const utcTime = (d: Date) => der(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from(cn)))));

export interface IdpKeys {
  privateKey: string;
  cert: string;
}

export function makeIdpKeys(cn = 'Test IdP'): IdpKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));
  const now = Date.now();
  const tbs = seq(
    der(0xa0, int(Buffer.from([2]))),
    int(Buffer.from(randomUUID().replace(/-/g, '').slice(0, 16), 'hex')),
    sha256WithRsa,
    name(cn),
    seq(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 365 * 86_400_000))),
    name(cn),
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const certDer = seq(tbs, sha256WithRsa, der(0x03, Buffer.concat([Buffer.from([0]), sign('sha256', tbs, privateKey)])));
  const cert = `-----BEGIN CERTIFICATE-----\n${certDer.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  new X509Certificate(cert); // throws if the encoding is wrong
  return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert };
}

// ---- SAML responses --------------------------------------------------------------------------
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const iso = (ms: number) => new Date(ms).toISOString();

export interface ResponseOptions {
  acsUrl: string;
  audience: string;
  nameId: string;
  issuer?: string;
  inResponseTo?: string | null;
  destination?: string | null;
  recipient?: string;
  attributes?: Record<string, string | string[]>;
  assertionId?: string;
  /** Conditions and SubjectConfirmationData NotOnOrAfter; default in 5 minutes. */
  notOnOrAfter?: number;
  /** Only the SubjectConfirmationData NotOnOrAfter (default: notOnOrAfter). */
  confirmationNotOnOrAfter?: number;
  issueInstant?: number;
}

export function samlResponseXml(o: ResponseOptions): string {
  const now = o.issueInstant ?? Date.now();
  const notOnOrAfter = o.notOnOrAfter ?? now + 5 * 60_000;
  const issuer = esc(o.issuer ?? 'https://idp.example.test');
  const irt = o.inResponseTo ? ` InResponseTo="${esc(o.inResponseTo)}"` : '';
  const destination = o.destination === null ? '' : ` Destination="${esc(o.destination ?? o.acsUrl)}"`;
  const attrs = Object.entries(o.attributes ?? {})
    .map(([n, v]) => `<saml:Attribute Name="${esc(n)}">${(Array.isArray(v) ? v : [v]).map((x) => `<saml:AttributeValue>${esc(x)}</saml:AttributeValue>`).join('')}</saml:Attribute>`)
    .join('');
  return (
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomUUID().replace(/-/g, '')}" Version="2.0" IssueInstant="${iso(now)}"${destination}${irt}>` +
    `<saml:Issuer>${issuer}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion ID="${esc(o.assertionId ?? `_a${randomUUID().replace(/-/g, '')}`)}" Version="2.0" IssueInstant="${iso(now)}">` +
    `<saml:Issuer>${issuer}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${esc(o.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${iso(o.confirmationNotOnOrAfter ?? notOnOrAfter)}" Recipient="${esc(o.recipient ?? o.acsUrl)}"${irt}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${iso(now - 60_000)}" NotOnOrAfter="${iso(notOnOrAfter)}"><saml:AudienceRestriction><saml:Audience>${esc(o.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="_s${randomUUID().slice(0, 8)}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    (attrs ? `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>` : '') +
    `</saml:Assertion></samlp:Response>`
  );
}

const ASSERTION = "//*[local-name(.)='Assertion']";
const RESPONSE = "/*[local-name(.)='Response']";

/** Signs the assertion (Okta/Entra default), the response, or both (assertion first), with exclusive c14n and RSA-SHA256. */
export function signSaml(xml: string, keys: IdpKeys, what: 'assertion' | 'response' | 'both' = 'assertion'): string {
  const options = { privateKey: keys.privateKey, publicCert: keys.cert, signatureAlgorithm: 'sha256' as const, digestAlgorithm: 'sha256' };
  let out = xml;
  if (what !== 'response') out = signXml(out, ASSERTION, { reference: `${ASSERTION}/*[local-name(.)='Issuer']`, action: 'after' }, options);
  if (what !== 'assertion') out = signXml(out, RESPONSE, { reference: `${RESPONSE}/*[local-name(.)='Issuer']`, action: 'after' }, options);
  return out;
}

export const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

/** The AuthnRequest id inside an HTTP-Redirect binding URL. */
export function authnRequestId(location: string): string {
  const req = new URL(location).searchParams.get('SAMLRequest')!;
  const xml = inflateRawSync(Buffer.from(req, 'base64')).toString('utf8');
  return /\sID="([^"]+)"/.exec(xml)![1]!;
}

// ---- A world ----------------------------------------------------------------------------------
export async function createOrg(ds: DataSource, name: string): Promise<string> {
  const id = randomUUID();
  await ds.getRepository(OrganizationEntity).insert({ id, name, displayName: null, seatLimit: null });
  return id;
}

export async function createConnection(
  ds: DataSource,
  o: {
    type: 'saml' | 'oidc';
    orgIds: string[];
    defaultOrgId: string;
    defaultTeam?: string | null;
    domains: Array<{ domain: string; verified: boolean }>;
    idp: SamlSettings & OidcSettings;
    jitEnabled?: boolean;
    scimEnabled?: boolean;
    name?: string;
  },
): Promise<string> {
  const id = randomUUID();
  await ds.getRepository(SsoConnectionEntity).insert({
    id,
    name: o.name ?? `conn-${id.slice(0, 6)}`,
    type: o.type,
    defaultOrgId: o.defaultOrgId,
    defaultTeam: o.defaultTeam ?? null,
    jitEnabled: o.jitEnabled ?? true,
    scimEnabled: o.scimEnabled ?? false,
    idpSettings: o.idp,
    rateLimitPerSecond: null,
  });
  await ds.getRepository(ConnectionOrgEntity).insert(o.orgIds.map((orgId) => ({ connectionId: id, orgId })));
  for (const d of o.domains) await ds.getRepository(ConnectionDomainEntity).insert({ id: randomUUID(), connectionId: id, domain: d.domain, verified: d.verified, createdAt: new Date() });
  return id;
}

/**
 * A fresh org named `moby-<tag>` and a sign-in connection for it (default team "everyone") claiming
 * `<tag>.example.com` verified and `unverified-<tag>.example.com` not, so each test has names of its own.
 */
export async function createSignInWorld(ds: DataSource, o: { type: 'saml' | 'oidc'; idp: SamlSettings & OidcSettings }) {
  const tag = randomUUID().slice(0, 8);
  const domain = `${tag}.example.com`;
  const org = { id: await createOrg(ds, `moby-${tag}`), name: `moby-${tag}` };
  const connectionId = await createConnection(ds, {
    type: o.type,
    orgIds: [org.id],
    defaultOrgId: org.id,
    defaultTeam: 'everyone',
    domains: [
      { domain, verified: true },
      { domain: `unverified-${domain}`, verified: false },
    ],
    idp: o.idp,
  });
  return { tag, domain, org, connectionId };
}

export async function createUser(ds: DataSource, email: string, fullName: string | null = null): Promise<string> {
  const id = randomUUID();
  await ds.getRepository(UserEntity).insert({ id, email, emailLc: email.toLowerCase(), username: `u${id.replace(/-/g, '').slice(0, 20)}`, fullName });
  return id;
}

export async function addMembership(ds: DataSource, m: { orgId: string; userId: string; role: OrgRole; source: 'scim' | 'jit' | 'manual'; connectionId: string | null }) {
  await ds.getRepository(OrgMembershipEntity).insert({ id: randomUUID(), ...m });
}

export async function addConnectionUser(ds: DataSource, u: { connectionId: string; userId: string; email: string; active: boolean }) {
  await ds.getRepository(ConnectionUserEntity).insert({
    id: randomUUID(),
    connectionId: u.connectionId,
    userId: u.userId,
    userName: u.email,
    userNameLc: u.email.toLowerCase(),
    active: u.active,
    resource: {},
    version: 1,
  });
  await recordConnectionUsersChange(ds.manager, u.connectionId, +1);
}

/** Row counts of what a sign-in may write, to assert "nothing written". */
export async function rowCounts(ds: DataSource) {
  const [row] = await ds.query(
    `SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM org_memberships) AS orgMemberships,
            (SELECT COUNT(*) FROM team_memberships) AS teamMemberships, (SELECT COUNT(*) FROM teams) AS teams,
            (SELECT COUNT(*) FROM sso_sessions) AS sessions`,
  );
  return Object.fromEntries(Object.entries(row as Record<string, unknown>).map(([k, v]) => [k, Number(v)]));
}

/** The user's memberships with org and team names, sorted. */
export async function membershipsOf(ds: DataSource, userId: string) {
  const orgs: Array<{ org: string; role: string; source: string }> = await ds.query(
    `SELECT o.name AS org, m.role AS role, m.source AS source FROM org_memberships m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.name`,
    [userId],
  );
  const teams: Array<{ org: string; team: string }> = await ds.query(
    `SELECT o.name AS org, t.name AS team FROM team_memberships tm JOIN teams t ON t.id = tm.team_id JOIN organizations o ON o.id = tm.org_id WHERE tm.user_id = ? ORDER BY o.name, t.name`,
    [userId],
  );
  return { orgs, teams };
}


// ---- A browser's cookies ----------------------------------------------------------------------
type WithHeaders = { headers: Record<string, any> };
export const setCookies = (res: WithHeaders): string[] => {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
};

/** The session cookie a response sets (`doorman_sso=…`), as a Set-Cookie line, or undefined. */
export const sessionSetCookie = (res: WithHeaders, name = 'doorman_sso'): string | undefined => setCookies(res).find((c) => c.startsWith(`${name}=`));

/** One browser's cookie jar (paths ignored): what /sso/login sets is sent back at the callback/ACS. */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  absorb(res: WithHeaders): this {
    for (const line of setCookies(res)) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      if (/Max-Age=0/.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, pair!.slice(eq + 1));
    }
    return this;
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  clear(): void {
    this.cookies.clear();
  }
}
export { spUrls } from '../src/saml.ts';
