import { randomUUID } from 'node:crypto';
import type { Context } from './types.ts';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { issueSecret, type EventBus, type HttpSurface } from '@doorman/core';
import { adminTokenIssued, adminTokenRevoked, defineError, NotFoundError, SYSTEM_ACTOR, tokenIssued, tokenRevoked, tokenRotated, type Actor } from '@doorman/plugin-api';
import { AdminTokenEntity, ScimTokenEntity, SsoConnectionEntity, type AdminToken, type ScimToken } from '@doorman/model';
import type { Invalidation } from './token-cache.ts';

/** 409: a revoked token cannot be rotated. */
const TokenRevoked = defineError('DMN_SCIM_TOKEN_REVOKED', 409);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const createScimTokenBody = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict();
const rotateScimTokenBody = z
  .object({
    /** How long the old token keeps working (0 = stop now). */
    graceHours: z.number().min(0).max(720).default(24),
    name: z.string().trim().min(1).max(255).optional(),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict();
const createAdminTokenBody = z.object({ name: z.string().trim().min(1).max(255) }).strict();

export interface AdminRouteDeps {
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T>;
  events: EventBus;
  now: () => Date;
  /** Drops cached lookups here and on every replica; called after the change committed. */
  invalidate(invalidation: Invalidation): Promise<void>;
  /** A buffered, not yet written last-use time. */
  pendingLastUsed(tokenId: string): number | undefined;
}

type TokenStatus = 'active' | 'expired' | 'revoked';

function statusOf(token: { revokedAt: Date | null; expiresAt?: Date | null }, now: Date): TokenStatus {
  if (token.revokedAt && token.revokedAt <= now) return 'revoked';
  if (token.expiresAt && token.expiresAt <= now) return 'expired';
  return 'active';
}

/** A SCIM token as the admin API shows it: metadata only, never the secret or its hash. */
export function scimTokenView(token: ScimToken, now: Date, pendingLastUsed?: number) {
  const stored = token.lastUsedAt?.getTime();
  const lastUsed = pendingLastUsed !== undefined && (stored === undefined || pendingLastUsed > stored) ? pendingLastUsed : stored;
  return {
    id: token.id,
    connectionId: token.connectionId,
    name: token.name,
    prefix: token.prefix,
    status: statusOf(token, now),
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: lastUsed === undefined ? null : new Date(lastUsed).toISOString(),
    expiresAt: token.expiresAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
  };
}

const time = z.iso.datetime().nullable();
const tokenStatus = z.enum(['active', 'expired', 'revoked']);
/** A SCIM token in responses: metadata only (docs/admin-api.md). */
export const scimTokenSchema = z
  .object({
    id: z.string(),
    connectionId: z.string(),
    name: z.string().nullable(),
    prefix: z.string().meta({ description: 'the public, recognisable start of the secret' }),
    status: tokenStatus,
    createdAt: z.iso.datetime(),
    lastUsedAt: time,
    expiresAt: time,
    revokedAt: time,
  })
  .meta({ id: 'ScimToken' });
export const adminTokenSchema = z
  .object({ id: z.string(), name: z.string(), prefix: z.string(), status: tokenStatus, createdAt: z.iso.datetime(), lastUsedAt: time, revokedAt: time })
  .meta({ id: 'AdminToken' });

export function adminTokenView(token: AdminToken, now: Date) {
  return {
    id: token.id,
    name: token.name,
    prefix: token.prefix,
    status: statusOf(token, now),
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
    revokedAt: token.revokedAt?.toISOString() ?? null,
  };
}

const actorOf = (ctx: Context): Actor => (ctx.state.actor as Actor | undefined) ?? SYSTEM_ACTOR;
const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

async function requireConnection(tx: EntityManager, connectionId: string): Promise<void> {
  const found = await tx.getRepository(SsoConnectionEntity).exists({ where: { id: connectionId } });
  if (!found) throw new NotFoundError(`SSO connection ${connectionId} not found`, { field: 'connectionId' });
}

async function lockScimToken(tx: EntityManager, connectionId: string, tokenId: string): Promise<ScimToken> {
  const token = await tx.getRepository(ScimTokenEntity).findOne({ where: { id: tokenId, connectionId }, lock: { mode: 'pessimistic_write' } });
  if (!token) throw new NotFoundError(`SCIM token ${tokenId} not found on connection ${connectionId}`, { field: 'tokenId' });
  return token;
}

async function insertScimToken(tx: EntityManager, connectionId: string, name: string | null, expiresAt: Date | null) {
  const id = randomUUID();
  const issued = issueSecret('scim', id);
  await tx.getRepository(ScimTokenEntity).insert({ id, connectionId, name, prefix: issued.prefix, hash: issued.hash, lastUsedAt: null, expiresAt, revokedAt: null });
  const token = await tx.getRepository(ScimTokenEntity).findOneByOrFail({ id });
  return { token, secret: issued.secret };
}

/** Mounts the token management routes on the admin router (already behind admin authentication). */
export function mountAdminRoutes(http: HttpSurface, deps: AdminRouteDeps): void {
  const { transaction, events } = deps;

  http.adminRoute({
    method: 'post',
    path: '/connections/:connectionId/scim-tokens',
    scope: { connection: 'connectionId' },
    summary: 'Issue a SCIM token for a connection (the secret is returned once)', body: createScimTokenBody, responses: { 201: { description: 'the token, with its secret (shown only now)', schema: scimTokenSchema.extend({ token: z.string() }) } },
    handler: async (ctx, input) => {
      const { body } = input;
      const { connectionId } = ctx.params as { connectionId: string };
      const now = deps.now();
      const expiresAt = body.expiresInDays ? new Date(now.getTime() + body.expiresInDays * DAY) : null;
      const { token, secret } = await transaction(async (tx) => {
        await requireConnection(tx, connectionId);
        const issued = await insertScimToken(tx, connectionId, body.name ?? null, expiresAt);
        await events.publish(tx, actorOf(ctx), tokenIssued({
          connectionId,
          target: { type: 'scim_token', id: issued.token.id },
          changes: { name: { after: issued.token.name }, prefix: { after: issued.token.prefix }, expiresAt: { after: iso(expiresAt) } },
        }));
        return issued;
      });
      ctx.status = 201;
      // The only time the secret is ever returned.
      ctx.body = { ...scimTokenView(token, now), token: secret };
    },
  });

  http.adminRoute({
    method: 'get',
    path: '/connections/:connectionId/scim-tokens',
    scope: { connection: 'connectionId' },
    summary: "List a connection's SCIM tokens (metadata only)", responses: { 200: { description: 'the tokens, oldest first', schema: z.object({ tokens: z.array(scimTokenSchema) }) } },
    handler: async (ctx) => {
      const { connectionId } = ctx.params as { connectionId: string };
      const now = deps.now();
      const tokens = await transaction(async (tx) => {
        await requireConnection(tx, connectionId);
        return tx.getRepository(ScimTokenEntity).find({ where: { connectionId }, order: { createdAt: 'ASC', id: 'ASC' } });
      });
      ctx.body = { tokens: tokens.map((t) => scimTokenView(t, now, deps.pendingLastUsed(t.id))) };
    },
  });

  http.adminRoute({
    method: 'post',
    path: '/connections/:connectionId/scim-tokens/:tokenId/rotate',
    scope: { connection: 'connectionId' },
    summary: 'Rotate a SCIM token: a new one now, the old one until the grace ends', body: rotateScimTokenBody, responses: { 201: { description: 'the new token with its secret, and the one it replaces', schema: scimTokenSchema.extend({ token: z.string(), replaces: scimTokenSchema }) } },
    handler: async (ctx, input) => {
      const { body } = input;
      const { connectionId, tokenId } = ctx.params as { connectionId: string; tokenId: string };
      const now = deps.now();
      const result = await transaction(async (tx) => {
        await requireConnection(tx, connectionId);
        const old = await lockScimToken(tx, connectionId, tokenId);
        if (old.revokedAt) throw new TokenRevoked(`SCIM token ${tokenId} is revoked; issue a new token instead`, { field: 'tokenId' });
        // The old token works until the grace ends, never longer than it already would have.
        const graceEnd = new Date(now.getTime() + body.graceHours * HOUR);
        const oldExpiresAt = old.expiresAt && old.expiresAt < graceEnd ? old.expiresAt : graceEnd;
        await tx.getRepository(ScimTokenEntity).update({ id: old.id }, { expiresAt: oldExpiresAt });
        const expiresAt = body.expiresInDays ? new Date(now.getTime() + body.expiresInDays * DAY) : null;
        const issued = await insertScimToken(tx, connectionId, body.name ?? old.name, expiresAt);
        const actor = actorOf(ctx);
        await events.publish(
          tx,
          actor,
          tokenIssued({
            connectionId,
            target: { type: 'scim_token', id: issued.token.id },
            changes: { name: { after: issued.token.name }, prefix: { after: issued.token.prefix }, expiresAt: { after: iso(expiresAt) }, replaces: { after: old.id } },
          }),
          tokenRotated({
            connectionId,
            target: { type: 'scim_token', id: old.id },
            changes: { expiresAt: { before: iso(old.expiresAt), after: iso(oldExpiresAt) }, replacedBy: { after: issued.token.id } },
          }),
        );
        return { ...issued, previous: { ...old, expiresAt: oldExpiresAt } };
      });
      await deps.invalidate({ tokenIds: [tokenId] });
      ctx.status = 201;
      ctx.body = { ...scimTokenView(result.token, now), token: result.secret, replaces: scimTokenView(result.previous, now, deps.pendingLastUsed(tokenId)) };
    },
  });

  http.adminRoute({
    method: 'delete',
    path: '/connections/:connectionId/scim-tokens/:tokenId',
    scope: { connection: 'connectionId' },
    summary: 'Revoke a SCIM token (idempotent)', responses: { 204: { description: 'revoked', schema: null } },
    handler: async (ctx) => {
      const { connectionId, tokenId } = ctx.params as { connectionId: string; tokenId: string };
      const now = deps.now();
      await transaction(async (tx) => {
        await requireConnection(tx, connectionId);
        const token = await lockScimToken(tx, connectionId, tokenId);
        if (token.revokedAt) return; // Idempotent: revoking twice changes nothing and records nothing.
        await tx.getRepository(ScimTokenEntity).update({ id: token.id }, { revokedAt: now });
        await events.publish(tx, actorOf(ctx), tokenRevoked({
          connectionId,
          target: { type: 'scim_token', id: token.id },
          changes: { revokedAt: { before: null, after: now.toISOString() } },
        }));
      });
      await deps.invalidate({ tokenIds: [tokenId] });
      ctx.status = 204;
    },
  });

  http.adminRoute({
    method: 'post',
    path: '/admin-tokens',
    scope: 'deployment',
    summary: 'Issue an admin token (the secret is returned once)', body: createAdminTokenBody, responses: { 201: { description: 'the token, with its secret (shown only now)', schema: adminTokenSchema.extend({ token: z.string() }) } },
    handler: async (ctx, input) => {
      const { body } = input;
      const now = deps.now();
      const { token, secret } = await transaction(async (tx) => {
        const id = randomUUID();
        const issued = issueSecret('admin', id);
        await tx.getRepository(AdminTokenEntity).insert({ id, name: body.name, prefix: issued.prefix, hash: issued.hash, lastUsedAt: null, revokedAt: null });
        const row = await tx.getRepository(AdminTokenEntity).findOneByOrFail({ id });
        await events.publish(tx, actorOf(ctx), adminTokenIssued({
          target: { type: 'admin_token', id },
          changes: { name: { after: row.name }, prefix: { after: row.prefix } },
        }));
        return { token: row, secret: issued.secret };
      });
      ctx.status = 201;
      ctx.body = { ...adminTokenView(token, now), token: secret };
    },
  });

  http.adminRoute({
    method: 'get',
    path: '/admin-tokens',
    scope: 'deployment',
    summary: 'List admin tokens (metadata only)', responses: { 200: { description: 'the tokens, oldest first', schema: z.object({ tokens: z.array(adminTokenSchema) }) } },
    handler: async (ctx) => {
      const now = deps.now();
      const tokens = await transaction((tx) => tx.getRepository(AdminTokenEntity).find({ order: { createdAt: 'ASC', id: 'ASC' } }));
      ctx.body = { tokens: tokens.map((t) => adminTokenView(t, now)) };
    },
  });

  http.adminRoute({
    method: 'delete',
    path: '/admin-tokens/:id',
    scope: 'deployment',
    summary: 'Revoke an admin token (idempotent)', responses: { 204: { description: 'revoked', schema: null } },
    handler: async (ctx) => {
      const { id } = ctx.params as { id: string };
      const now = deps.now();
      await transaction(async (tx) => {
        const token = await tx.getRepository(AdminTokenEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
        if (!token) throw new NotFoundError(`admin token ${id} not found`, { field: 'id' });
        if (token.revokedAt) return;
        await tx.getRepository(AdminTokenEntity).update({ id }, { revokedAt: now });
        await events.publish(tx, actorOf(ctx), adminTokenRevoked({
          target: { type: 'admin_token', id },
          changes: { revokedAt: { before: null, after: now.toISOString() } },
        }));
      });
      ctx.status = 204;
    },
  });
}
