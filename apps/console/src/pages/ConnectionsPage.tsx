import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { admin, call } from '../api/client.ts';
import type { Body } from '../api/types.ts';
import { Badge, ErrorMessage, Field, Loading, Page, Section, Table } from '../components/ui.tsx';
import { useAction, useResource } from '../hooks.ts';

export function ConnectionsPage() {
  const connections = useResource('connections', (signal) => call(admin.GET('/connections', { params: { query: { limit: 1000 } }, signal })));
  return (
    <Page title="SSO connections">
      <Section title="All connections">
        {connections.loading && !connections.data ? <Loading /> : null}
        <ErrorMessage error={connections.error} retry={connections.reload} />
        {connections.data?.connections.length === 0 ? <p className="empty">No connections yet. Create one below, then follow its “Set up in Okta / Entra ID” steps.</p> : null}
        {connections.data?.connections.length ? (
          <Table caption="SSO connections">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Domains</th>
                <th scope="col">Provisioning</th>
              </tr>
            </thead>
            <tbody>
              {connections.data.connections.map((c) => (
                <tr key={c.id}>
                  <td className="wrap">
                    <Link to={`/connections/${c.id}`}>{c.name}</Link>
                  </td>
                  <td>{c.type.toUpperCase()}</td>
                  <td className="wrap">{c.domains.map((d) => `${d.domain}${d.verified ? '' : ' (unverified)'}`).join(', ') || '—'}</td>
                  <td>
                    {c.jitEnabled ? <Badge tone="good">JIT</Badge> : null} {c.scimEnabled ? <Badge tone="good">SCIM</Badge> : null}{' '}
                    {!c.ssoSettingsComplete ? <Badge tone="warn">SSO settings incomplete</Badge> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : null}
      </Section>
      <CreateConnection />
    </Page>
  );
}

function CreateConnection() {
  const orgs = useResource('orgs', (signal) => call(admin.GET('/orgs', { params: { query: { limit: 1000 } }, signal })));
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [type, setType] = useState<'oidc' | 'saml'>('oidc');
  const [orgId, setOrgId] = useState('');
  const [domain, setDomain] = useState('');
  const create = useAction((body: Body<'/connections', 'post'>) => call(admin.POST('/connections', { body })));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const chosen = orgId || orgs.data?.orgs[0]?.id;
    const created = await create.run({ name, type, orgIds: chosen ? [chosen] : [], ...(domain ? { domains: [domain] } : {}) });
    if (created) navigate(`/connections/${created.id}`);
  };
  return (
    <Section title="Create a connection">
      <ErrorMessage error={orgs.error} retry={orgs.reload} title="Organizations not loaded" />
      {orgs.data?.orgs.length === 0 ? (
        <p className="notice">
          A connection serves at least one organization: <Link to="/orgs">create an organization</Link> first.
        </p>
      ) : null}
      <form className="inline-form" onSubmit={submit}>
        <Field label="Connection name">{(props) => <input {...props} required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
        <Field label="Protocol">
          {(props) => (
            <select {...props} value={type} onChange={(e) => setType(e.target.value as 'oidc' | 'saml')}>
              <option value="oidc">OpenID Connect</option>
              <option value="saml">SAML 2.0</option>
            </select>
          )}
        </Field>
        <Field label="Organization">
          {(props) => (
            <select {...props} value={orgId} onChange={(e) => setOrgId(e.target.value)} required>
              {(orgs.data?.orgs ?? []).map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Email domain (optional)">{(props) => <input {...props} value={domain} placeholder="example.com" onChange={(e) => setDomain(e.target.value)} />}</Field>
        <button type="submit" disabled={create.busy || !orgs.data?.orgs.length}>
          {create.busy ? 'Creating…' : 'Create connection'}
        </button>
      </form>
      <ErrorMessage error={create.error} title="Not created" />
    </Section>
  );
}
