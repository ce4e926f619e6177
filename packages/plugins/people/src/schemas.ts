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
        state: z.enum(['pending', 'queued', 'failing', 'failed']).meta({ description: 'pending: not yet handed to the queue; queued: handed over; failing: retrying after an error; failed: gave up (lastError)' }),
        attempts: z.number().int(),
        lastError: z.string().nullable(),
        createdAt: time,
      }),
    ),
  })
  .meta({ id: 'Person' });

/** `GET /people/:person/explain` (docs/people-and-explain.md, "Explain"). */
export const explainQuery = z.object({
  org: z.string().min(1).max(255).optional().meta({ description: 'organization id or name: explain this organization only' }),
  team: z.string().min(1).max(255).optional().meta({ description: 'team id or name (within org when given): explain this team only' }),
});

const stepKind = z.enum(['idp_request', 'admin_request', 'decision', 'change', 'job', 'sessions_ended', 'deactivation', 'refused_sign_in', 'not_served']);
export const explainStepSchema = z
  .object({
    n: z.number().int().meta({ description: 'position in the chain, from 1' }),
    kind: stepKind.meta({
      description:
        'idp_request: a SCIM or SSO request; admin_request: an admin change; decision: the role-mapping decision and its inputs; change: a membership, role or team change; job: a deactivation or sync job; sessions_ended; deactivation; refused_sign_in; not_served: a dockerOrg the connection does not serve',
    }),
    at: time,
    eventId: z.string().meta({ description: 'the audit event behind the step (a decision step: the event that records it); verify it with the hash chain' }),
    action: z.string(),
    summary: z.string().meta({ description: 'the step in words' }),
    connectionId: z.string().nullable(),
    orgId: z.string().nullable(),
    teamId: z.string().nullable(),
    requestId: z.string().nullable().meta({ description: 'the HTTP request that caused it (SCIM, SSO, admin), also through a job' }),
    jobId: z.string().nullable(),
    follows: z.string().nullable().meta({ description: 'the audit event id this step follows from' }),
    details: z.record(z.string(), z.unknown()).meta({ description: 'attributes that mattered, the rule and its inputs, the refusal reason' }),
    sealed: z.boolean().meta({ description: 'false until the audit sealer linked the event into its hash chain' }),
  })
  .meta({ id: 'ExplainStep' });

export const explanationSchema = z
  .object({
    person: z.object({ id: z.string(), email: z.string() }),
    org: z.object({ id: z.string(), name: z.string().nullable() }).nullable(),
    team: z.object({ id: z.string(), name: z.string().nullable() }).nullable(),
    now: z.object({
      organizations: z.array(z.object({ orgId: z.string(), org: z.string().nullable(), role: z.string(), provenance: provenanceSchema, since: time })),
      teams: z.array(z.object({ teamId: z.string(), team: z.string().nullable(), orgId: z.string(), org: z.string().nullable(), provenance: provenanceSchema, since: time })),
      summary: z.string().meta({ description: 'the answer now, in words' }),
    }),
    chain: z.array(explainStepSchema),
    whyNot: z.array(z.number().int()).meta({ description: 'the steps (n) that keep the person out: refusals, deactivations, organizations not served' }),
  })
  .meta({ id: 'Explanation' });
