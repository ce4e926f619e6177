/**
 * What an IdP says about a person, read from SAML attributes or OIDC claims with the names Docker
 * accepts (docs/docker-behaviour.md §2.6). Pure: no I/O; the routes turn the results into refusals.
 */
import type { IdpAttributes } from '@doorman/plugin-api';

export interface Identity {
  email: string;
  fullName: string | null;
  attributes: IdpAttributes;
  /** `dockerSessionMinutes`, when sent. */
  sessionMinutes: number | null;
}

export type AttributeProblem =
  | { kind: 'email_missing' }
  | { kind: 'name_id_not_email' }
  | { kind: 'email_not_verified' }
  | { kind: 'email_mismatch'; nameId: string; attribute: string; value: string }
  | { kind: 'invalid'; field: string; message: string };
export type IdentityResult = { ok: true; identity: Identity } | { ok: false; problem: AttributeProblem };

// Deliberately plain: one @, no spaces, a dot in the domain. The IdP is the authority on the
// address; this only tells an email from an opaque identifier (a persistent Name ID, a GUID).
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@.]{2,}$/;
export const isEmail = (value: string) => value.length <= 320 && EMAIL.test(value);

export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

const CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/';
export const SAML_NAMES = {
  /** Attributes that state the person's email address: each one sent must name the Name ID's address. */
  email: [`${CLAIMS}emailaddress`, 'email'],
  name: [`${CLAIMS}name`, 'name'],
  givenName: [`${CLAIMS}givenname`],
  surname: [`${CLAIMS}surname`],
  groups: ['http://schemas.xmlsoap.org/claims/Group', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups', 'Groups', 'groups'],
} as const;

/** node-saml gives a string, an array of values, or `{ _: text, $: attrs }` for typed values. */
function values(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  const out: string[] = [];
  for (const v of list) {
    const s = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : typeof v === 'object' && v && typeof (v as { _?: unknown })._ === 'string' ? (v as { _: string })._ : null;
    if (s !== null && s.trim() !== '') out.push(s.trim());
  }
  return out;
}

const first = (attrs: Record<string, unknown>, names: readonly string[]) => {
  for (const n of names) {
    const v = values(attrs[n])[0];
    if (v !== undefined) return v;
  }
  return null;
};

/** `dockerSessionMinutes` "must be a positive integer greater than 0". */
export function parseSessionMinutes(raw: string | null): { ok: true; value: number | null } | { ok: false; message: string } {
  if (raw === null) return { ok: true, value: null };
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) {
    return { ok: false, message: `Invalid dockerSessionMinutes '${raw}': must be a positive integer greater than 0.` };
  }
  return { ok: true, value: Number(raw) };
}

function common(email: string, fullName: string | null, attrs: Record<string, unknown>, groups: string[]): IdentityResult {
  const minutes = parseSessionMinutes(first(attrs, ['dockerSessionMinutes']));
  if (!minutes.ok) return { ok: false, problem: { kind: 'invalid', field: 'dockerSessionMinutes', message: minutes.message } };
  return {
    ok: true,
    identity: {
      email,
      fullName: fullName ? fullName.slice(0, 255) : null,
      attributes: {
        dockerOrg: first(attrs, ['dockerOrg']),
        dockerTeam: first(attrs, ['dockerTeam']),
        dockerRole: first(attrs, ['dockerRole']),
        groups,
      },
      sessionMinutes: minutes.value,
    },
  };
}

/**
 * SAML: "Docker SSO requires the Name ID to be the primary email address of the user" — a Name ID
 * that is not an email is refused, and the Name ID is the address used. An email attribute
 * (`emailaddress`, `email`) that names a different address refuses the sign-in: otherwise a person
 * who can edit that attribute at the IdP would sign in as someone else. UPN and `nameidentifier`
 * claims are identifiers, not addresses, and are not compared.
 */
export function identityFromSaml(nameId: string | null | undefined, attrs: Record<string, unknown>): IdentityResult {
  if (!nameId || !isEmail(nameId.trim())) return { ok: false, problem: { kind: 'name_id_not_email' } };
  const email = nameId.trim();
  for (const name of SAML_NAMES.email) {
    for (const value of values(attrs[name])) {
      if (!isEmail(value)) return { ok: false, problem: { kind: 'invalid', field: 'email', message: `The email attribute '${value}' is not an email address.` } };
      if (value.toLowerCase() !== email.toLowerCase()) return { ok: false, problem: { kind: 'email_mismatch', nameId: email, attribute: name, value } };
    }
  }
  const given = first(attrs, SAML_NAMES.givenName);
  const surname = first(attrs, SAML_NAMES.surname);
  const fullName = first(attrs, SAML_NAMES.name) ?? ([given, surname].filter(Boolean).join(' ') || null);
  const groups = [...new Set(SAML_NAMES.groups.flatMap((n) => values(attrs[n])))];
  return common(email, fullName, attrs, groups);
}

/**
 * OIDC (Entra-style): `email`, else the UPN (`upn`, `preferred_username`) when it is an email; an
 * `email_verified: false` is refused. Groups over OIDC are not read (Docker: "Use SCIM to
 * synchronize groups for OIDC connections").
 */
export function identityFromOidc(claims: Record<string, unknown>): IdentityResult {
  const email = first(claims, ['email', 'upn', 'preferred_username']);
  if (email === null) return { ok: false, problem: { kind: 'email_missing' } };
  if (!isEmail(email)) return { ok: false, problem: { kind: 'invalid', field: 'email', message: `The email claim '${email}' is not an email address.` } };
  if (claims.email_verified === false || claims.email_verified === 'false') return { ok: false, problem: { kind: 'email_not_verified' } };
  const fullName = first(claims, ['name']) ?? ([first(claims, ['given_name']), first(claims, ['family_name'])].filter(Boolean).join(' ') || null);
  return common(email, fullName, claims, []);
}
