import type { ConnectionDomain, SsoConnection } from '@doorman/model';

/** The SSO settings a connection needs before it can sign people in (and so before SCIM may be enabled). */
export function missingSsoSettings(connection: Pick<SsoConnection, 'type' | 'idpSettings'>): string[] {
  const s = connection.idpSettings;
  const required = connection.type === 'saml' ? (['entryPoint', 'idpIssuer', 'idpCert'] as const) : (['issuer', 'clientId', 'clientSecret'] as const);
  return required.filter((key) => !s[key]);
}

/** A connection as the admin API shows it: the OIDC client secret is never returned, only whether it is set. */
export function publicConnection(connection: SsoConnection, orgIds: string[], domains: ConnectionDomain[]) {
  const { clientSecret, ...idp } = connection.idpSettings;
  return {
    ...connection,
    idpSettings: { ...idp, ...(connection.type === 'oidc' ? { clientSecretSet: Boolean(clientSecret) } : {}) },
    orgIds,
    domains: domains.map((d) => ({ domain: d.domain, verified: d.verified })),
    ssoSettingsComplete: missingSsoSettings(connection).length === 0,
  };
}
