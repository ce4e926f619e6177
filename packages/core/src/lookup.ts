import type { DataSource, EntityManager } from 'typeorm';
import type { RouterParameterMiddleware } from '@koa/router';
import { OrganizationEntity, SsoConnectionEntity } from '@doorman/model';
import { AmbiguousNameError, NotFoundError } from '@doorman/plugin-api';

/**
 * Organizations and SSO connections are addressed by id or by name wherever the admin API and the
 * CLI take one (people type names). Ids win; a connection name that matches several connections is
 * refused with the matching ids rather than guessed.
 */
export const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

type Db = DataSource | EntityManager;

/** The id of the connection `ref` names (an id, or a unique name, case-insensitive); undefined when none. */
export async function findConnectionId(db: Db, ref: string): Promise<string | undefined> {
  const repo = db.getRepository(SsoConnectionEntity);
  if (isUuid(ref) && (await repo.existsBy({ id: ref }))) return ref;
  const matches = await repo
    .createQueryBuilder('c')
    .select(['c.id', 'c.name'])
    .where('LOWER(c.name) = :name', { name: ref.toLowerCase() })
    .orderBy('c.createdAt', 'ASC')
    .limit(11)
    .getMany();
  if (matches.length > 1) {
    throw new AmbiguousNameError(
      `connection name '${ref}' matches ${matches.length > 10 ? 'more than 10' : matches.length} connections (${matches
        .slice(0, 10)
        .map((m) => m.id)
        .join(', ')}): use the id, or rename one (connections update <id> --name ...)`,
      { field: 'connectionId' },
    );
  }
  return matches[0]?.id;
}

/** The id of the organization `ref` names (an id, or its name); undefined when none. */
export async function findOrgId(db: Db, ref: string): Promise<string | undefined> {
  const repo = db.getRepository(OrganizationEntity);
  if (isUuid(ref) && (await repo.existsBy({ id: ref }))) return ref;
  const org = await repo.findOne({ where: { name: ref.toLowerCase() }, select: { id: true } });
  return org?.id;
}

/**
 * For filters (audit): an id is used as given (it may name something since deleted), a name must
 * resolve. Undefined in, undefined out.
 */
export async function resolveFilterRef(db: Db, kind: 'org' | 'connection', ref: string | undefined, field: string): Promise<string | undefined> {
  if (ref === undefined || ref === '' || isUuid(ref)) return ref || undefined;
  const id = kind === 'org' ? await findOrgId(db, ref) : await findConnectionId(db, ref);
  if (!id) throw new NotFoundError(`no ${kind === 'org' ? 'organization' : 'SSO connection'} named '${ref}'`, { field });
  return id;
}

/**
 * Router param middleware for `:connectionId`: a name becomes the connection's id before the route
 * runs, so every plugin's connection routes accept names without code of their own. An unknown
 * reference is left as it is for the route's own 404.
 */
export function connectionParam(db: DataSource): RouterParameterMiddleware {
  return async (ref, ctx, next) => {
    if (ref) {
      const id = await findConnectionId(db, ref);
      if (id) ctx.params.connectionId = id;
    }
    return next();
  };
}
