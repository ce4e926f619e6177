import { useState, type FormEvent } from 'react';
import { admin, call } from '../api/client.ts';
import type { Body, Ok } from '../api/types.ts';
import { Badge, ErrorMessage, Field, Loading, Page, Section } from '../components/ui.tsx';
import { useAction, useResource } from '../hooks.ts';

type Preview = Ok<'/connections/{connectionId}/role-mapping/preview', 'post'>;
type PreviewBody = Body<'/connections/{connectionId}/role-mapping/preview', 'post'>;

/** What would these IdP attributes become? A dry run: nothing is written. */
export function RoleMappingPage() {
  const connections = useResource('connections', (signal) => call(admin.GET('/connections', { params: { query: { limit: 1000 } }, signal })));
  const [form, setForm] = useState({ connectionId: '', email: '', dockerRole: '', dockerOrg: '', dockerTeam: '', groups: '', flow: 'scim' });
  const set = (key: keyof typeof form, value: string) => setForm((f) => ({ ...f, [key]: value }));
  const preview = useAction((connectionId: string, body: PreviewBody) =>
    call(admin.POST('/connections/{connectionId}/role-mapping/preview', { params: { path: { connectionId } }, body })),
  );
  const [result, setResult] = useState<Preview>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const connectionId = form.connectionId || connections.data?.connections[0]?.id;
    if (!connectionId) return;
    const groups = form.groups
      .split(/[\n,]/)
      .map((g) => g.trim())
      .filter(Boolean);
    const body = {
      flow: form.flow as 'scim' | 'jit',
      ...(form.email ? { email: form.email } : {}),
      ...(form.dockerRole ? { dockerRole: form.dockerRole } : {}),
      ...(form.dockerOrg ? { dockerOrg: form.dockerOrg } : {}),
      ...(form.dockerTeam ? { dockerTeam: form.dockerTeam } : {}),
      ...(groups.length ? { groups } : {}),
    };
    setResult(await preview.run(connectionId, body));
  };
  return (
    <Page title="Role mapping preview">
      <Section title="Attributes">
        <p className="hint">Type what the IdP would send; the preview shows the organization, role and team memberships Doorman would grant. Nothing is changed.</p>
        {connections.loading && !connections.data ? <Loading /> : null}
        <ErrorMessage error={connections.error} retry={connections.reload} />
        <form className="stack-form" onSubmit={submit}>
          <Field label="Connection">
            {(props) => (
              <select {...props} value={form.connectionId} onChange={(e) => set('connectionId', e.target.value)}>
                {connections.data?.connections.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Person’s email (optional)" hint="An existing person: their current memberships are taken into account.">
            {(props) => <input {...props} type="email" value={form.email} onChange={(e) => set('email', e.target.value)} />}
          </Field>
          <Field label="dockerRole" hint="member, editor or owner">
            {(props) => <input {...props} value={form.dockerRole} onChange={(e) => set('dockerRole', e.target.value)} />}
          </Field>
          <Field label="dockerOrg">{(props) => <input {...props} value={form.dockerOrg} onChange={(e) => set('dockerOrg', e.target.value)} />}</Field>
          <Field label="dockerTeam">{(props) => <input {...props} value={form.dockerTeam} onChange={(e) => set('dockerTeam', e.target.value)} />}</Field>
          <Field label="Groups" hint="organization:team names, comma- or line-separated">
            {(props) => <textarea {...props} value={form.groups} onChange={(e) => set('groups', e.target.value)} />}
          </Field>
          <Field label="Flow">
            {(props) => (
              <select {...props} value={form.flow} onChange={(e) => set('flow', e.target.value)}>
                <option value="scim">SCIM</option>
                <option value="jit">JIT sign-in</option>
              </select>
            )}
          </Field>
          <div className="actions">
            <button type="submit" disabled={preview.busy || !connections.data?.connections.length}>
              {preview.busy ? 'Previewing…' : 'Preview'}
            </button>
          </div>
        </form>
        <ErrorMessage error={preview.error} title="No preview" />
      </Section>
      {result ? (
        <Section title="Result">
          <dl className="props" aria-label="Preview result">
            <dt>Organization</dt>
            <dd>{result.effectiveOrg.name}</dd>
            <dt>Role</dt>
            <dd>
              <Badge>{result.role}</Badge> {result.mappedRole !== result.role ? <span className="muted">(the attributes ask for {result.mappedRole})</span> : null}
            </dd>
            <dt>Team</dt>
            <dd>{result.team ?? '—'}</dd>
            <dt>Changes</dt>
            <dd>
              {result.changes.length ? (
                <ul>
                  {result.changes.map((c, i) => (
                    <li key={i} className="wrap">
                      <code>{c.kind}</code> {Object.entries(c).filter(([k]) => k !== 'kind' && k !== 'orgId').map(([k, v]) => `${k}: ${String(v)}`).join(', ')}
                    </li>
                  ))}
                </ul>
              ) : (
                'none (already as mapped)'
              )}
            </dd>
            <dt>Ignored groups</dt>
            <dd className="wrap">{result.ignoredGroups.join(', ') || '—'}</dd>
          </dl>
        </Section>
      ) : null}
    </Page>
  );
}
