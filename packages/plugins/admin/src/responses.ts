import { z } from 'zod';

/** The admin plugin's response bodies, as the OpenAPI document describes them (docs/admin-api.md). */
const time = z.iso.datetime();

export const orgView = z.object({
  id: z.string(),
  name: z.string(),
  displayName: z.string().nullable(),
  seatLimit: z.number().int().nullable(),
  createdAt: time,
  updatedAt: time,
}).meta({ id: 'Organization' });

export const orgList = z.object({ orgs: z.array(orgView), total: z.number().int() });

export const teamView = z.object({ id: z.string(), orgId: z.string(), name: z.string(), nameLc: z.string(), createdAt: time }).meta({ id: 'Team' });

export const memberList = z.object({
  total: z.number().int(),
  members: z.array(
    z.object({
      userId: z.string(),
      email: z.string().optional(),
      username: z.string().optional(),
      role: z.enum(['member', 'editor', 'owner']),
      source: z.enum(['scim', 'jit', 'manual']),
      connectionId: z.string().nullable(),
      teams: z.array(z.object({ team: z.string().optional(), source: z.enum(['scim', 'jit', 'manual']), grantedBy: z.enum(['mapping', 'group', 'admin']) })),
    }),
  ),
});

export const connectionSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.enum(['saml', 'oidc']),
  defaultOrgId: z.string().nullable(),
  defaultTeam: z.string().nullable(),
  jitEnabled: z.boolean(),
  scimEnabled: z.boolean(),
  idpSettings: z.object({
    entryPoint: z.string().optional(),
    idpIssuer: z.string().optional(),
    idpCert: z.string().optional(),
    wantAuthnResponseSigned: z.boolean().optional(),
    allowIdpInitiated: z.boolean().optional(),
    issuer: z.string().optional(),
    clientId: z.string().optional(),
    clientSecretSet: z.boolean().optional().meta({ description: 'OIDC: whether a client secret is set (it is never returned)' }),
  }),
  rateLimitPerSecond: z.number().int().nullable(),
  deprovisioningScope: z.enum(['organization', 'connection']).meta({ description: 'what a SCIM deactivation through this connection covers (docs/org-wide-deprovisioning.md)' }),
  createdAt: time,
  updatedAt: time,
  orgIds: z.array(z.string()),
  domains: z.array(z.object({ domain: z.string(), verified: z.boolean() })),
  ssoSettingsComplete: z.boolean(),
}).meta({ id: 'Connection' });

export const connectionList = z.object({ total: z.number().int(), connections: z.array(connectionSchema) });

export const domainView = z.object({ id: z.string(), connectionId: z.string(), domain: z.string(), verified: z.boolean(), createdAt: time }).meta({ id: 'Domain' });
