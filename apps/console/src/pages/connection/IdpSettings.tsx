import { useState, type FormEvent } from 'react';
import { admin, call } from '../../api/client.ts';
import { MetadataError, parseIdpMetadata } from '../../api/saml-metadata.ts';
import type { Connection } from '../../api/types.ts';
import { ErrorMessage, Field, SaveBar, Section } from '../../components/ui.tsx';
import { useAction } from '../../hooks.ts';
import { connectionParams } from './ConnectionPage.tsx';

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The IdP side: OIDC issuer and client, or SAML by importing the IdP's metadata XML. */
export function IdpSettings({ connection, onSaved }: { connection: Connection; onSaved(): void }) {
  const s = connection.idpSettings;
  const [fields, setFields] = useState<Record<string, string>>(
    connection.type === 'oidc' ? { issuer: str(s.issuer), clientId: str(s.clientId), clientSecret: '' } : { entryPoint: str(s.entryPoint), idpIssuer: str(s.idpIssuer), idpCert: str(s.idpCert) },
  );
  const [metadata, setMetadata] = useState('');
  const [importError, setImportError] = useState<Error>();
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
  const importMetadata = (xml: string) => {
    setImportError(undefined);
    try {
      setFields(parseIdpMetadata(xml) as unknown as Record<string, string>);
    } catch (err) {
      setImportError(err instanceof MetadataError ? err : new Error('The metadata could not be read.'));
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
            <Field label="Import IdP metadata XML" hint="Paste the metadata your IdP offers (Okta: “Identity Provider metadata”; Entra ID: “Federation Metadata XML”), or choose the file.">
              {(props) => <textarea {...props} value={metadata} onChange={(e) => setMetadata(e.target.value)} />}
            </Field>
            <div className="actions">
              <button type="button" className="secondary" onClick={() => importMetadata(metadata)} disabled={!metadata.trim()}>
                Read metadata
              </button>
              <label className="secondary-file">
                <span className="visually-hidden">Metadata file</span>
                <input type="file" accept=".xml,application/xml,text/xml" aria-label="Metadata file" onChange={async (e) => e.target.files?.[0] && importMetadata(await e.target.files[0].text())} />
              </label>
            </div>
            <ErrorMessage error={importError} title="Metadata not imported" />
            <Field label="IdP single sign-on URL">{(props) => <input {...props} type="url" value={fields.entryPoint} onChange={(e) => set('entryPoint', e.target.value)} />}</Field>
            <Field label="IdP entity ID (issuer)">{(props) => <input {...props} value={fields.idpIssuer} onChange={(e) => set('idpIssuer', e.target.value)} />}</Field>
            <Field label="IdP signing certificate (base64)">{(props) => <textarea {...props} value={fields.idpCert} onChange={(e) => set('idpCert', e.target.value)} />}</Field>
          </>
        )}
        <SaveBar label="Save identity provider" busy={save.busy} saved={saved} error={save.error} />
      </form>
    </Section>
  );
}
