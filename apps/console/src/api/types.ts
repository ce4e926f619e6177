/** Shapes of the admin API's answers the console reads. */
export interface Org {
  id: string;
  name: string;
  displayName: string | null;
  seatLimit: number | null;
  createdAt: string;
}
export interface Team {
  id: string;
  orgId: string;
  name: string;
  createdAt: string;
}
export interface Member {
  userId: string;
  email?: string;
  username?: string;
  role: 'member' | 'editor' | 'owner';
  source: 'scim' | 'jit' | 'manual';
  connectionId: string | null;
  teams: Array<{ team?: string; source: string; grantedBy?: string | null }>;
}
export interface Connection {
  id: string;
  name: string;
  type: 'saml' | 'oidc';
  defaultOrgId: string | null;
  defaultTeam: string | null;
  jitEnabled: boolean;
  scimEnabled: boolean;
  rateLimitPerSecond: number | null;
  idpSettings: Record<string, unknown>;
  orgIds: string[];
  domains: Array<{ domain: string; verified: boolean }>;
  ssoSettingsComplete: boolean;
  createdAt: string;
}
