import { z } from 'zod';
import { DEPROVISIONING_SCOPES } from '@doorman/model';
import { parseIdpCert } from './certificates.ts';

/** An X.509 certificate, PEM or base64 DER, stored as PEM; anything else is a 400 naming `idp.idpCert`. */
const idpCert = z
  .string()
  .max(16_384)
  .transform((raw, ctx) => {
    const parsed = parseIdpCert(raw);
    if (parsed.ok) return parsed.pem;
    ctx.addIssue({ code: 'custom', message: parsed.message });
    return z.NEVER;
  });

/** Docker-style organisation names: lower-case letters, digits, `-` and `_`. */
export const orgName = z.string().regex(/^[a-z0-9][a-z0-9_-]{1,63}$/, 'lower-case letters, digits, "-" or "_", 2-64 characters');
export const teamName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$/, 'letters, digits, ".", "_", "-" or spaces, up to 100 characters');
export const domainName = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a DNS domain such as example.com'));

export const createOrgBody = z
  .object({ name: orgName, displayName: z.string().min(1).max(255).optional(), seatLimit: z.number().int().min(1).nullable().optional() })
  .strict();
export const updateOrgBody = z
  .object({ displayName: z.string().min(1).max(255).nullable().optional(), seatLimit: z.number().int().min(1).nullable().optional() })
  .strict();
export const createTeamBody = z.object({ name: teamName }).strict();
export const renameTeamBody = createTeamBody;


const samlSettings = z
  .object({
    entryPoint: z.url().optional(),
    idpIssuer: z.string().min(1).max(1024).optional(),
    idpCert: idpCert.optional(),
    wantAuthnResponseSigned: z.boolean().optional(),
    allowIdpInitiated: z.boolean().optional(),
  })
  .strict();
const oidcSettings = z
  .object({ issuer: z.url().optional(), clientId: z.string().min(1).max(255).optional(), clientSecret: z.string().min(1).max(1024).optional() })
  .strict();

const connectionFields = {
  name: z.string().min(1).max(255),
  orgIds: z.array(z.string().min(1)).min(1, 'a connection serves at least one organization'),
  defaultOrgId: z.string().min(1).nullable().optional(),
  defaultTeam: teamName.nullable().optional(),
  domains: z.array(domainName).optional(),
  jitEnabled: z.boolean().optional(),
  scimEnabled: z.boolean().optional(),
  rateLimitPerSecond: z.number().int().min(1).max(100_000).nullable().optional(),
  /** What this connection's SCIM deactivations cover (docs/org-wide-deprovisioning.md); default `organization`. */
  deprovisioningScope: z.enum(DEPROVISIONING_SCOPES as [string, ...string[]]).optional(),
};
export const createConnectionBody = z.discriminatedUnion('type', [
  z.object({ ...connectionFields, type: z.literal('saml'), idp: samlSettings.optional() }).strict(),
  z.object({ ...connectionFields, type: z.literal('oidc'), idp: oidcSettings.optional() }).strict(),
]);
export const updateConnectionBody = z
  .object({
    name: connectionFields.name.optional(),
    orgIds: connectionFields.orgIds.optional(),
    defaultOrgId: connectionFields.defaultOrgId,
    defaultTeam: connectionFields.defaultTeam,
    jitEnabled: connectionFields.jitEnabled,
    scimEnabled: connectionFields.scimEnabled,
    rateLimitPerSecond: connectionFields.rateLimitPerSecond,
    deprovisioningScope: connectionFields.deprovisioningScope,
    // Checked against the stored connection's type in the route (idpSettingsOf): a union would report
    // the other type's complaint ("Unrecognized key") instead of the field that is wrong.
    idp: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** An update's `idp` object, validated as the connection's type takes it (errors name `idp.<field>`). */
export function idpSettingsOf(type: 'saml' | 'oidc', idp: Record<string, unknown>) {
  return z.object({ idp: type === 'saml' ? samlSettings : oidcSettings }).parse({ idp }).idp;
}
export const addDomainBody = z.object({ domain: domainName, verified: z.boolean().optional() }).strict();
export const listQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).default(0) })
  .strict();
