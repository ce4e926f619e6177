import type { EntityManager } from 'typeorm';
import { isUuid } from '@doorman/core';
import { NotFoundError } from '@doorman/plugin-api';
import { OrganizationEntity, type Organization } from '@doorman/model';

/** An organization by id or by name (the CLI's users type names). */
export async function findOrg(tx: EntityManager, ref: string): Promise<Organization> {
  const repo = tx.getRepository(OrganizationEntity);
  const org = (isUuid(ref) ? await repo.findOneBy({ id: ref }) : null) ?? (await repo.findOneBy({ name: ref.toLowerCase() }));
  if (!org) throw new NotFoundError(`organization '${ref}' not found`, { field: 'orgId' });
  return org;
}
