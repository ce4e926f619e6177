import { useState, type FormEvent } from 'react';
import { admin, call } from '../../api/client.ts';
import type { Connection } from '../../api/types.ts';
import { Badge, ErrorMessage, Field, Section, Table } from '../../components/ui.tsx';
import { useAction } from '../../hooks.ts';
import { connectionParams } from './ConnectionPage.tsx';

export function Domains({ connection, onChanged }: { connection: Connection; onChanged(): void }) {
  const [domain, setDomain] = useState('');
  const add = useAction((d: string) => call(admin.POST('/connections/{connectionId}/domains', { ...connectionParams(connection.id), body: { domain: d } })));
  const verify = useAction((d: string) => call(admin.POST('/connections/{connectionId}/domains/{domain}/verify', { params: { path: { connectionId: connection.id, domain: d } } })));
  const remove = useAction((d: string) => call(admin.DELETE('/connections/{connectionId}/domains/{domain}', { params: { path: { connectionId: connection.id, domain: d } } })));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await add.run(domain)) {
      setDomain('');
      onChanged();
    }
  };
  return (
    <Section title="Domains">
      <p className="hint">
        People whose email is in a verified domain sign in through this connection. Verification is an admin assertion here: check the domain’s DNS
        TXT record with its owner, then mark it verified.
      </p>
      {connection.domains.length ? (
        <Table caption="Domains">
          <thead>
            <tr>
              <th scope="col">Domain</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {connection.domains.map((d) => (
              <tr key={d.domain}>
                <td className="wrap">{d.domain}</td>
                <td>{d.verified ? <Badge tone="good">verified</Badge> : <Badge tone="warn">unverified</Badge>}</td>
                <td className="actions">
                  {!d.verified ? (
                    <button type="button" className="small" disabled={verify.busy} onClick={async () => (await verify.run(d.domain)) && onChanged()} aria-label={`Mark ${d.domain} verified`}>
                      Mark verified
                    </button>
                  ) : null}
                  <button type="button" className="secondary small" disabled={remove.busy} onClick={async () => (await remove.run(d.domain), onChanged())} aria-label={`Remove ${d.domain}`}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : (
        <p className="empty">No domains.</p>
      )}
      <form className="inline-form" onSubmit={submit}>
        <Field label="Add a domain">{(props) => <input {...props} required placeholder="example.com" value={domain} onChange={(e) => setDomain(e.target.value)} />}</Field>
        <button type="submit" disabled={add.busy}>
          Add domain
        </button>
      </form>
      <ErrorMessage error={add.error ?? verify.error ?? remove.error} title="Domain not changed" />
    </Section>
  );
}
