import { z } from 'zod';

/** The people routes' requests and responses (docs/admin-api.md, docs/people-and-explain.md). */
export const searchQuery = z.object({
  q: z.string().max(320).optional().meta({ description: 'a prefix of email, username, name, SCIM userName or externalId (case-insensitive; externalId as stored)' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(1000).optional().meta({ description: 'nextCursor of the previous page' }),
});

const time = z.iso.datetime();
export const personHit = z.object({ id: z.string(), email: z.string(), username: z.string(), fullName: z.string().nullable(), createdAt: time }).meta({ id: 'PersonHit' });
export const searchResult = z.object({ people: z.array(personHit), nextCursor: z.string().nullable() });

export const provenanceSchema = z
  .object({
    via: z.enum(['scim_attribute', 'scim_group', 'jit', 'admin']).meta({ description: 'how the membership was granted' }),
    connectionId: z.string().nullable().meta({ description: 'the connection that granted it (null: an admin)' }),
    ref: z.string().nullable().meta({ description: 'what granted it: the SCIM group id for scim_group' }),
  })
  .meta({ id: 'Provenance' });

export const personSchema = z
  .object({
    account: z.object({ id: z.string(), email: z.string(), username: z.string(), fullName: z.string().nullable(), createdAt: time, updatedAt: time }),
    connections: z.array(
      z.object({
        connectionId: z.string(),
        connectionName: z.string().nullable(),
        scimId: z.string().nullable(),
        state: z.enum(['active', 'deactivated', 'deleted']),
        userName: z.string(),
        externalId: z.string().nullable(),
        lastIdpRequestAt: time.nullable(),
      }),
    ),
    organizations: z.array(z.object({ orgId: z.string(), org: z.string().nullable(), role: z.enum(['member', 'editor', 'owner']), provenance: provenanceSchema, since: time })),
    teams: z.array(z.object({ teamId: z.string(), team: z.string().nullable(), orgId: z.string(), org: z.string().nullable(), provenance: provenanceSchema, since: time })),
    sessions: z.array(z.object({ id: z.string(), connectionId: z.string(), createdAt: time, expiresAt: time })),
    jobs: z.array(
      z.object({
        queue: z.string(),
        name: z.string(),
        jobId: z.string(),
        state: z.enum(['pending', 'queued', 'failing']),
        attempts: z.number().int(),
        lastError: z.string().nullable(),
        createdAt: time,
      }),
    ),
  })
  .meta({ id: 'Person' });
