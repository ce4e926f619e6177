import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { admin, call } from '../api/client.ts';
import type { Body } from '../api/types.ts';
import { ErrorMessage, Field, formatDate, Loading, Page, Section, Table } from '../components/ui.tsx';
import { useAction, useResource } from '../hooks.ts';

export function OrgsPage() {
  const orgs = useResource('orgs', (signal) => call(admin.GET('/orgs', { params: { query: { limit: 1000 } }, signal })));
  return (
    <Page title="Organizations">
      <Section title="All organizations">
        {orgs.loading && !orgs.data ? <Loading /> : null}
        <ErrorMessage error={orgs.error} retry={orgs.reload} />
        {orgs.data && orgs.data.orgs.length === 0 ? <p className="empty">No organizations yet. Create the first one below.</p> : null}
        {orgs.data && orgs.data.orgs.length > 0 ? (
          <Table caption="Organizations">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Display name</th>
                <th scope="col">Seat limit</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {orgs.data.orgs.map((org) => (
                <tr key={org.id}>
                  <td className="wrap">
                    <Link to={`/orgs/${encodeURIComponent(org.name)}`}>{org.name}</Link>
                  </td>
                  <td className="wrap">{org.displayName ?? <span className="muted">—</span>}</td>
                  <td>{org.seatLimit ?? 'none'}</td>
                  <td>{formatDate(org.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : null}
      </Section>
      <CreateOrg onCreated={orgs.reload} />
    </Page>
  );
}

function CreateOrg({ onCreated }: { onCreated(): void }) {
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const create = useAction((body: Body<'/orgs', 'post'>) => call(admin.POST('/orgs', { body })));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const org = await create.run({ name, ...(displayName ? { displayName } : {}) });
    if (org) {
      setName('');
      setDisplayName('');
      onCreated();
    }
  };
  return (
    <Section title="Create an organization">
      <form className="inline-form" onSubmit={submit}>
        <Field label="Name" hint="Lower-case letters, digits, “-” or “_” (2–64), as in Docker.">
          {(props) => <input {...props} required value={name} onChange={(e) => setName(e.target.value)} pattern="[a-z0-9][a-z0-9_\-]{1,63}" />}
        </Field>
        <Field label="Display name (optional)">{(props) => <input {...props} value={displayName} maxLength={255} onChange={(e) => setDisplayName(e.target.value)} />}</Field>
        <button type="submit" disabled={create.busy}>
          {create.busy ? 'Creating…' : 'Create organization'}
        </button>
      </form>
      <ErrorMessage error={create.error} title="Not created" />
    </Section>
  );
}
