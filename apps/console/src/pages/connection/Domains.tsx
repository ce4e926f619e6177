import { useRef, useState, type FormEvent } from 'react';
import { admin, call } from '../../api/client.ts';
import type { Connection } from '../../api/types.ts';
import { Badge, ErrorMessage, Field, Section, Table } from '../../components/ui.tsx';
import { useAction } from '../../hooks.ts';
import { connectionParams } from './ConnectionPage.tsx';

export function Domains({ connection, onChanged }: { connection: Connection; onChanged(): void }) {
  const [domain, setDomain] = useState('');
  // The button pressed disappears (verified) or takes its row with it (removed): move the keyboard
  // focus somewhere that stays rather than letting it fall back to the page.
  const table = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const focusAfter = (selector: string | null) =>
    setTimeout(() => ((selector && table.current?.querySelector<HTMLElement>(selector)) || input.current)?.focus(), 0);
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
        <div ref={table} className="contents">
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
                      <button
                        type="button"
                        className="small"
                        disabled={verify.busy}
                        onClick={async () => {
                          if (!(await verify.run(d.domain))) return;
                          onChanged();
                          focusAfter(`[data-remove="${CSS.escape(d.domain)}"]`);
                        }}
                        aria-label={`Mark ${d.domain} verified`}
                      >
                        Mark verified
                      </button>
                    ) : null}
                    <button
                      type="button"
                      className="secondary small"
                      disabled={remove.busy}
                      data-remove={d.domain}
                      onClick={async () => {
                        await remove.run(d.domain);
                        onChanged();
                        focusAfter(null);
                      }}
                      aria-label={`Remove ${d.domain}`}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        </div>
      ) : (
        <p className="empty">No domains.</p>
      )}
      <form className="inline-form" onSubmit={submit}>
        <Field label="Add a domain">{(props) => <input {...props} ref={input} required placeholder="example.com" value={domain} onChange={(e) => setDomain(e.target.value)} />}</Field>
        <button type="submit" disabled={add.busy}>
          Add domain
        </button>
      </form>
      <ErrorMessage error={add.error ?? verify.error ?? remove.error} title="Domain not changed" />
    </Section>
  );
}
