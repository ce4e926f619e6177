/**
 * Which organizations an admin route touches, declared on every route (`scope` in admin-routes.ts):
 * the server-side boundary for organization owners signed in to the console through Doorman's SSO
 * (docs/console.md, "Organization owners"). An admin token passes every scope. An owner passes only
 * a route whose organizations are all theirs; default deny: a route declared `'deployment'` (or
 * mounted on the admin router without `adminRoute`) refuses owners, so a new route cannot leak by
 * omission.
 */
import type { Context } from 'koa';
import type { DataSource, EntityManager } from 'typeorm';
import { ConnectionOrgEntity, SsoConnectionEntity } from '@doorman/model';
import { defineError } from '@doorman/plugin-api';
import { findOrgId } from './lookup.ts';

/** The owner's organizations when an owner is signed in; undefined for an admin token (every organization). */
export function ownerOrgIds(ctx: { state: { auth?: { kind?: string; orgIds?: readonly string[] } } }): readonly string[] | undefined {
  return ctx.state.auth?.kind === 'owner' ? (ctx.state.auth.orgIds ?? []) : undefined;
}

/** An organization owner on a deployment-wide route (or one declaring no scope, or an admin app). */
export const OwnerRefused = defineError('DMN_OWNER_DEPLOYMENT_ROUTE', 403);
/** An organization owner asking for something not entirely within their organizations (or absent). */
export const OwnerOutOfScope = defineError('DMN_OWNER_OUT_OF_SCOPE', 404);

/**
 * - `'deployment'`: deployment-wide (admin tokens, webhooks, the audit chain, health): owners get 403.
 * - `{ org: 'org' }`: the organization named (id or name) by that path parameter.
 * - `{ connection: 'connectionId' }`: every organization the SSO connection in that path parameter
 *   serves (its default organization and `connection_orgs`); a connection serving none refuses owners.
 * - `{ orgs(ctx, input) }`: the organizations the request touches, computed by the route (a person's
 *   memberships) from the path parameters (checked before the query and body are read); an empty
 *   answer refuses owners.
 * - `'filtered'`: a list the handler filters itself with `ownerOrgIds(ctx)` (owners see only rows
 *   of their organizations); the owner route test checks that no other organization's row shows.
 */
export type AdminRouteScope<I = unknown> =
  | 'deployment'
  | 'filtered'
  | { org: string }
  | { connection: string }
  | { orgs(ctx: Context, input: I): Promise<readonly string[]> | readonly string[] };

/** The organizations an SSO connection serves (none when it does not exist). */
export async function connectionOrgIds(db: DataSource | EntityManager, connectionId: string): Promise<string[]> {
  const connection = await db.getRepository(SsoConnectionEntity).findOne({ where: { id: connectionId }, select: { id: true, defaultOrgId: true } });
  if (!connection) return [];
  const served = await db.getRepository(ConnectionOrgEntity).find({ where: { connectionId }, select: { orgId: true } });
  return [...new Set([...(connection.defaultOrgId ? [connection.defaultOrgId] : []), ...served.map((s) => s.orgId)])];
}

/** The scope's organizations for this request (only asked for owners). */
async function touchedOrgs(db: DataSource, scope: Exclude<AdminRouteScope, 'deployment' | 'filtered'>, ctx: Context, input: { params: Record<string, string> }): Promise<readonly string[]> {
  if ('org' in scope) {
    const ref = input.params[scope.org];
    const id = ref ? await findOrgId(db, ref) : undefined;
    return id ? [id] : [];
  }
  if ('connection' in scope) {
    const id = input.params[scope.connection];
    return id ? connectionOrgIds(db, id) : [];
  }
  return scope.orgs(ctx, input as never);
}

/**
 * Throws unless the caller may run a route of this scope. Owners: 403 on deployment routes; 404 when
 * the resource is not entirely within their organizations (or does not exist), so an owner learns
 * nothing about other organizations' resources.
 */
export async function enforceScope(db: DataSource, scope: AdminRouteScope, ctx: Context, input: { params: Record<string, string> }): Promise<void> {
  const owned = ownerOrgIds(ctx);
  if (owned === undefined) return;
  if (scope === 'deployment') throw new OwnerRefused('organization owners cannot use this deployment-wide route: it needs an admin token');
  if (scope === 'filtered') return;
  const touched = await touchedOrgs(db, scope, ctx, input);
  if (!scopeAllows(owned, touched)) throw new OwnerOutOfScope('not found among the organizations you own');
}

/** Pure: an owner may act on a resource only when it touches at least one organization and all are theirs. */
export function scopeAllows(owned: readonly string[], touched: readonly string[]): boolean {
  return touched.length > 0 && touched.every((id) => owned.includes(id));
}
