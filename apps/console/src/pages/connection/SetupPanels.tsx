import { useState } from 'react';
import type { Connection } from '../../api/types.ts';
import { CopyValue, Section } from '../../components/ui.tsx';
import { useSession } from '../../session-context.ts';

/** The SCIM schema extension carrying dockerRole/dockerOrg/dockerTeam (packages/scim user-schema.ts; docs/okta.md §5). */
export const DOCKER_EXTENSION = 'urn:ietf:params:scim:schemas:extension:docker:2.0:User';
const ATTRIBUTES = ['dockerRole', 'dockerOrg', 'dockerTeam'] as const;

/**
 * The exact values an IdP admin pastes into Okta or Entra ID, step by step (the same values as
 * docs/okta.md and docs/entra-id.md, built from PUBLIC_URL and the connection id).
 */
export function SetupPanels({ connection }: { connection: Connection }) {
  const { publicUrl } = useSession();
  const [idp, setIdp] = useState<'okta' | 'entra'>('okta');
  const scim = `${publicUrl}/scim/v2`;
  const entityId = `${publicUrl}/sso/saml/metadata/${connection.id}`;
  const acs = `${publicUrl}/sso/saml/acs?connection=${encodeURIComponent(connection.id)}`;
  const redirect = `${publicUrl}/sso/oidc/callback`;
  const signOn = `${publicUrl}/sso/login`;
  const saml = connection.type === 'saml';
  return (
    <Section
      title={idp === 'okta' ? 'Set up in Okta' : 'Set up in Entra ID'}
      actions={
        <div className="actions" role="group" aria-label="Identity provider">
          <button type="button" className={idp === 'okta' ? 'small' : 'secondary small'} aria-pressed={idp === 'okta'} onClick={() => setIdp('okta')}>
            Okta
          </button>
          <button type="button" className={idp === 'entra' ? 'small' : 'secondary small'} aria-pressed={idp === 'entra'} onClick={() => setIdp('entra')}>
            Entra ID
          </button>
        </div>
      }
    >
      {idp === 'okta' ? (
        <ol className="steps">
          <li>
            Applications → Create App Integration → {saml ? 'SAML 2.0' : 'OIDC – Web Application'}.
            {saml ? (
              <>
                <CopyValue label="Single sign-on URL" value={acs} />
                <p className="hint">Tick “Use this for Recipient URL and Destination URL”.</p>
                <CopyValue label="Audience URI (SP Entity ID)" value={entityId} />
                <p className="hint">Name ID format EmailAddress, Application username Email, assertion signed.</p>
              </>
            ) : (
              <CopyValue label="Sign-in redirect URI" value={redirect} />
            )}
          </li>
          <li>
            {saml ? 'Attribute statements' : 'Claims (profile)'}: map Okta user fields to <code>dockerRole</code> (member, editor or owner), <code>dockerOrg</code> and{' '}
            <code>dockerTeam</code>; optional group claim with groups named <code>organization:team</code>.
            <CopyValue label="Role attribute" value="dockerRole" />
            <CopyValue label="Organization attribute" value="dockerOrg" />
            <CopyValue label="Team attribute" value="dockerTeam" />
          </li>
          <li>
            {saml ? 'Copy the Identity Provider metadata into “Import IdP metadata XML” above.' : 'Copy the issuer, client ID and client secret into the OpenID Connect form above.'}
          </li>
          <li>
            Provisioning tab → Configure API Integration → SCIM 2.0, authentication mode “HTTP Header”:
            <CopyValue label="SCIM connector base URL" value={scim} />
            <CopyValue label="Unique identifier field" value="userName" />
            Authorization: a SCIM token issued above (Bearer). Enable Create Users, Update User Attributes and Deactivate Users.
          </li>
          <li>
            Directory → Profile Editor → this app’s user profile → Add Attribute, three times (string; variable and external name the same):
            {ATTRIBUTES.map((a) => (
              <CopyValue key={a} label={`External name (${a})`} value={a} />
            ))}
            <CopyValue label="External namespace" value={DOCKER_EXTENSION} />
          </li>
        </ol>
      ) : (
        <ol className="steps">
          <li>
            Enterprise applications → New application → Create your own application (non-gallery). Single sign-on →{' '}
            {saml ? 'SAML' : 'use an App registration with a Web platform'}:
            {saml ? (
              <>
                <CopyValue label="Identifier (Entity ID)" value={entityId} />
                <CopyValue label="Reply URL (ACS URL)" value={acs} />
                <CopyValue label="Sign on URL (optional)" value={signOn} />
                <p className="hint">Unique User Identifier (Name ID): user.mail, format Email address.</p>
              </>
            ) : (
              <>
                <CopyValue label="Redirect URI" value={redirect} />
                <p className="hint">Entra cannot provision over SCIM from the app that signs in with OIDC: create a second non-gallery application for step 4.</p>
              </>
            )}
          </li>
          <li>
            Attributes &amp; Claims: add claims named <code>dockerRole</code>, <code>dockerOrg</code> and <code>dockerTeam</code> from user attributes or
            extension attributes.
            <CopyValue label="Role claim" value="dockerRole" />
            <CopyValue label="Organization claim" value="dockerOrg" />
            <CopyValue label="Team claim" value="dockerTeam" />
          </li>
          <li>{saml ? 'Download “Federation Metadata XML” and import it above.' : 'Copy the tenant issuer (…/v2.0), application (client) ID and a client secret above.'}</li>
          <li>
            Provisioning → Automatic:
            <CopyValue label="Tenant URL" value={scim} />
            Secret Token: a SCIM token issued above. Test Connection, then turn provisioning on.
          </li>
          <li>
            Mappings → Provision Microsoft Entra ID Users → Show advanced options → Edit attribute list: add three String attributes, then map a
            source (e.g. extensionAttribute1) to each:
            {ATTRIBUTES.map((a) => (
              <CopyValue key={a} label={`Target attribute (${a})`} value={`${DOCKER_EXTENSION}:${a}`} />
            ))}
          </li>
        </ol>
      )}
    </Section>
  );
}
