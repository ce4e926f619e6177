import { useEffect, useState, type FormEvent } from 'react';
import { admin, call } from '../../api/client.ts';
import type { Body, Connection } from '../../api/types.ts';
import { ErrorMessage, Field, SaveBar, Section } from '../../components/ui.tsx';
import { useAction, useResource } from '../../hooks.ts';
import { connectionParams } from './ConnectionPage.tsx';

/** Name, organizations served, defaults, JIT and SCIM toggles, rate limit. */
export function ConnectionSettings({ connection, onSaved }: { connection: Connection; onSaved(): void }) {
  const orgs = useResource('orgs', (signal) => call(admin.GET('/orgs', { params: { query: { limit: 1000 } }, signal })));
  const [form, setForm] = useState(() => fromConnection(connection));
  useEffect(() => setForm(fromConnection(connection)), [connection]);
  const save = useAction((body: Body<'/connections/{connectionId}', 'patch'>) => call(admin.PATCH('/connections/{connectionId}', { ...connectionParams(connection.id), body })));
  const [saved, setSaved] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const body = {
      name: form.name,
      orgIds: form.orgIds,
      defaultOrgId: form.defaultOrgId || null,
      defaultTeam: form.defaultTeam.trim() || null,
      jitEnabled: form.jitEnabled,
      scimEnabled: form.scimEnabled,
      rateLimitPerSecond: form.rateLimit ? Number(form.rateLimit) : null,
    };
    if (await save.run(body)) {
      setSaved(true);
      onSaved();
    }
  };
  const set = <K extends keyof typeof form>(key: K, value: (typeof form)[K]) => setForm((f) => ({ ...f, [key]: value }));
  return (
    <Section title="Provisioning settings">
      <form className="stack-form" onSubmit={submit}>
        <Field label="Name">{(props) => <input {...props} required maxLength={255} value={form.name} onChange={(e) => set('name', e.target.value)} />}</Field>
        <fieldset>
          <legend>Organizations served</legend>
          {orgs.data?.orgs.map((o) => (
            <label key={o.id} className="check wrap">
              <input
                type="checkbox"
                checked={form.orgIds.includes(o.id)}
                onChange={(e) => set('orgIds', e.target.checked ? [...form.orgIds, o.id] : form.orgIds.filter((id) => id !== o.id))}
              />
              {o.name}
            </label>
          ))}
          <ErrorMessage error={orgs.error} retry={orgs.reload} />
        </fieldset>
        <Field label="Default organization" hint="Where people land when the IdP sends no dockerOrg.">
          {(props) => (
            <select {...props} value={form.defaultOrgId} onChange={(e) => set('defaultOrgId', e.target.value)}>
              <option value="">— none —</option>
              {orgs.data?.orgs
                .filter((o) => form.orgIds.includes(o.id))
                .map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
            </select>
          )}
        </Field>
        <Field label="Default team" hint="Team in the default organization for people the IdP sends no dockerTeam for.">
          {(props) => <input {...props} maxLength={100} value={form.defaultTeam} onChange={(e) => set('defaultTeam', e.target.value)} />}
        </Field>
        <label className="check">
          <input type="checkbox" checked={form.jitEnabled} onChange={(e) => set('jitEnabled', e.target.checked)} /> Just-in-time provisioning at SSO sign-in
        </label>
        <label className="check">
          <input type="checkbox" checked={form.scimEnabled} onChange={(e) => set('scimEnabled', e.target.checked)} /> SCIM provisioning
        </label>
        <Field label="SCIM rate limit (requests/s)" hint="Empty: the deployment default (TOKEN_AUTH_RATE_LIMIT_PER_SECOND).">
          {(props) => <input {...props} type="number" min={1} max={100000} value={form.rateLimit} onChange={(e) => set('rateLimit', e.target.value)} />}
        </Field>
        <SaveBar label="Save settings" busy={save.busy} saved={saved} error={save.error} />
      </form>
    </Section>
  );
}

function fromConnection(c: Connection) {
  return {
    name: c.name,
    orgIds: c.orgIds,
    defaultOrgId: c.defaultOrgId ?? '',
    defaultTeam: c.defaultTeam ?? '',
    jitEnabled: c.jitEnabled,
    scimEnabled: c.scimEnabled,
    rateLimit: c.rateLimitPerSecond?.toString() ?? '',
  };
}
