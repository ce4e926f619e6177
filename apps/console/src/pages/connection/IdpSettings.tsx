import { useState, type FormEvent } from 'react';
import { admin, call } from '../../api/client.ts';
import type { Connection } from '../../api/types.ts';
import { Field, SaveBar, Section } from '../../components/ui.tsx';
import { useAction } from '../../hooks.ts';
import { connectionParams } from './ConnectionPage.tsx';
import { SamlMetadataImport } from './SamlMetadataImport.tsx';

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The IdP side: OIDC issuer and client, or SAML by importing the IdP's metadata XML. */
export function IdpSettings({ connection, onSaved }: { connection: Connection; onSaved(): void }) {
  const s = connection.idpSettings;
  const [fields, setFields] = useState<Record<string, string>>(
    connection.type === 'oidc' ? { issuer: str(s.issuer), clientId: str(s.clientId), clientSecret: '' } : { entryPoint: str(s.entryPoint), idpIssuer: str(s.idpIssuer), idpCert: str(s.idpCert) },
  );
  const [saved, setSaved] = useState(false);
  const save = useAction((idp: Record<string, string>) => call(admin.PATCH('/connections/{connectionId}', { ...connectionParams(connection.id), body: { idp } })));
  const set = (key: string, value: string) => setFields((f) => ({ ...f, [key]: value }));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    // Empty fields are left as they are (the client secret is never shown, so empty means "keep").
    const idp = Object.fromEntries(Object.entries(fields).filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, v.trim()]));
    if (await save.run(idp)) {
      setSaved(true);
      setFields((f) => ({ ...f, ...(connection.type === 'oidc' ? { clientSecret: '' } : {}) }));
      onSaved();
    }
  };
  return (
    <Section title={connection.type === 'oidc' ? 'OpenID Connect provider' : 'SAML identity provider'}>
      <form className="stack-form" onSubmit={submit}>
        {connection.type === 'oidc' ? (
          <>
            <Field label="Issuer URL" hint="e.g. https://example.okta.com or https://login.microsoftonline.com/<tenant>/v2.0">
              {(props) => <input {...props} type="url" value={fields.issuer} onChange={(e) => set('issuer', e.target.value)} />}
            </Field>
            <Field label="Client ID">{(props) => <input {...props} value={fields.clientId} onChange={(e) => set('clientId', e.target.value)} />}</Field>
            <Field label="Client secret" hint={s.clientSecretSet ? 'A secret is set; it is never shown. Type a new one to replace it.' : 'Not set yet.'}>
              {(props) => <input {...props} type="password" autoComplete="off" value={fields.clientSecret} onChange={(e) => set('clientSecret', e.target.value)} />}
            </Field>
          </>
        ) : (
          <>
            <SamlMetadataImport onRead={({ entryPoint, idpIssuer, idpCert }) => setFields({ entryPoint, idpIssuer, idpCert })} />
            <Field label="IdP single sign-on URL">{(props) => <input {...props} type="url" value={fields.entryPoint} onChange={(e) => set('entryPoint', e.target.value)} />}</Field>
            <Field label="IdP entity ID (issuer)">{(props) => <input {...props} value={fields.idpIssuer} onChange={(e) => set('idpIssuer', e.target.value)} />}</Field>
            <Field label="IdP signing certificate (PEM)">{(props) => <textarea {...props} value={fields.idpCert} onChange={(e) => set('idpCert', e.target.value)} />}</Field>
          </>
        )}
        <SaveBar label="Save identity provider" busy={save.busy} saved={saved} error={save.error} />
      </form>
    </Section>
  );
}
