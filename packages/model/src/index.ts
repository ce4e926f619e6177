export * from './entities.ts';
export * from './data-source.ts';
export { Initial1732800000000 } from './migrations/1732800000000-Initial.ts';
export { MembershipProvenance1733022000000 } from './migrations/1733022000000-MembershipProvenance.ts';
export * from './accounts.ts';
export * from './user-counts.ts';
export * from './insert.ts';
export * from './row-codec.ts';
export * from './provenance.ts';
