import { z } from 'zod';

/** The audit routes' response bodies, as the OpenAPI document describes them (docs/admin-api.md). */
export const apiEventSchema = z
  .object({
    seq: z.number().int(),
    id: z.string(),
    occurredAt: z.iso.datetime(),
    orgId: z.string().nullable(),
    connectionId: z.string().nullable(),
    actor: z.object({ type: z.enum(['scim_token', 'admin_token', 'sso_user', 'system']), id: z.string().nullable() }),
    requestId: z.string().nullable().meta({ description: 'the HTTP request that caused it (SCIM, SSO, admin), directly or through a job' }),
    jobId: z.string().nullable().meta({ description: 'the job that wrote it (deactivation, sync)' }),
    causeId: z.string().nullable().meta({ description: 'the id of the audit event it follows from' }),
    action: z.string(),
    target: z.object({ type: z.string().nullable(), id: z.string().nullable() }).nullable(),
    changes: z.record(z.string(), z.unknown()).nullable().meta({ description: 'per field: { before, after } (secrets never appear)' }),
    context: z.record(z.string(), z.unknown()).nullable().meta({ description: "the decision's inputs (role mapping: rule, attributes, groups, seat and owner counts; a refused sign-in: its reason)" }),
    sealed: z.boolean().meta({ description: 'false until the sealer linked the event into its chain' }),
    chainSeq: z.number().int().nullable(),
    prevHash: z.string().nullable(),
    hash: z.string().nullable(),
  })
  .meta({ id: 'AuditEvent' });

export const eventPage = z.object({ events: z.array(apiEventSchema), nextCursor: z.string().nullable() });

const finding = z.object({ kind: z.literal('unsealed'), count: z.number().int(), oldestSeq: z.number().int(), reason: z.string() });
const common = { checked: z.number().int(), unsealed: z.number().int(), findings: z.array(finding), macChecked: z.boolean().meta({ description: 'events were checked against their HMAC (AUDIT_HMAC_KEY set)' }) };
export const verifyResultSchema = z.union([
  z.object({ ok: z.literal(true), ...common, lastSeq: z.number().int().nullable(), lastChainSeq: z.number().int().nullable(), headHash: z.string().nullable() }),
  z.object({ ok: z.literal(false), ...common, brokenAtSeq: z.number().int(), reason: z.string() }),
]);

/** POST /audit/verify with a checkpoint (src/checkpoint.ts, docs/audit-anchoring.md). */
export const checkpointResultSchema = z
  .object({
    ok: z.boolean(),
    checkpoint: z.object({ createdAt: z.string().nullable(), keyId: z.string().nullable() }),
    reason: z.string().optional().meta({ description: 'why the checkpoint itself was refused (unreadable, bad signature)' }),
    chains: z.array(
      z.object({
        chainKey: z.string(),
        status: z.enum(['ok', 'purged', 'broken']),
        lastChainSeq: z.number().int(),
        reason: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'AuditCheckpointResult' });
