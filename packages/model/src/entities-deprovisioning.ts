import { EntitySchema } from 'typeorm';

/**
 * One row per (person, organization, SCIM connection) that deactivated or deleted the person
 * (docs/org-wide-deprovisioning.md). Written in the SCIM change's own transaction (jit-provisioning
 * hears the domain event), removed when that connection reactivates or re-creates the person. Every
 * SSO session check and sign-in reads it with one indexed query (primary key prefix `user_id`), so
 * the refusal does not wait for the deactivation job.
 */
export interface SsoDeprovisioning {
  userId: string;
  orgId: string;
  /** The SCIM connection that deactivated or deleted the person. */
  connectionId: string;
  /** Copied from the connection's `deprovisioningScope`: true covers sessions and sign-ins through every connection into `orgId`. */
  orgWide: boolean;
  reason: 'inactive' | 'deleted';
  createdAt: Date;
}

export const SsoDeprovisioningEntity = new EntitySchema<SsoDeprovisioning>({
  name: 'SsoDeprovisioning',
  tableName: 'sso_deprovisionings',
  columns: {
    userId: { type: 'varchar', length: 36, primary: true, name: 'user_id' },
    orgId: { type: 'varchar', length: 36, primary: true, name: 'org_id' },
    connectionId: { type: 'varchar', length: 36, primary: true, name: 'connection_id' },
    orgWide: { type: 'boolean', name: 'org_wide' },
    reason: { type: 'varchar', length: 16 },
    createdAt: { type: 'datetime', precision: 3, name: 'created_at' },
  },
});
