import { useState } from 'react';
import { admin, call } from '../../api/client.ts';
import type { Ok } from '../../api/types.ts';
import { ErrorMessage, Field } from '../../components/ui.tsx';
import { useAction } from '../../hooks.ts';

export type SamlMetadata = Ok<'/saml-metadata', 'post'>;

/**
 * Imports the IdP's SAML metadata — pasted, from a file, or by URL — through the admin API
 * (POST /saml-metadata, docs/saml-metadata.md), which reads the entity id, SSO URL and signing
 * certificate; a URL is fetched by the gateway under its outbound policy, never by the browser.
 */
export function SamlMetadataImport({ onRead }: { onRead(metadata: SamlMetadata): void }) {
  const [xml, setXml] = useState('');
  const [url, setUrl] = useState('');
  const [read, setRead] = useState<SamlMetadata>();
  const parse = useAction((body: { xml: string } | { url: string }) => call(admin.POST('/saml-metadata', { body })));
  const run = async (body: { xml: string } | { url: string }) => {
    setRead(undefined);
    const result = await parse.run(body);
    if (result) {
      setRead(result);
      onRead(result);
    }
  };
  return (
    <fieldset className="metadata-import">
      <legend>Import IdP metadata</legend>
      <Field label="Metadata URL" hint="Okta: the “Metadata URL” of the app's Sign On tab; Entra ID: “App Federation Metadata Url”. Fetched by Doorman.">
        {(props) => <input {...props} type="url" value={url} placeholder="https://…" onChange={(e) => setUrl(e.target.value)} />}
      </Field>
      <div className="actions">
        <button type="button" className="secondary" disabled={!url.trim() || parse.busy} onClick={() => run({ url: url.trim() })}>
          Fetch metadata
        </button>
      </div>
      <Field label="Metadata XML" hint="Or paste the metadata document (Okta: “Identity Provider metadata”; Entra ID: “Federation Metadata XML”), or choose the file.">
        {(props) => <textarea {...props} value={xml} onChange={(e) => setXml(e.target.value)} />}
      </Field>
      <div className="actions">
        <button type="button" className="secondary" disabled={!xml.trim() || parse.busy} onClick={() => run({ xml })}>
          Read metadata
        </button>
        <label className="secondary-file">
          <span className="visually-hidden">Metadata file</span>
          <input
            type="file"
            accept=".xml,application/xml,text/xml,application/samlmetadata+xml"
            aria-label="Metadata file"
            onChange={async (e) => {
              const file = e.target.files?.[0];
              if (file) await run({ xml: await file.text() });
            }}
          />
        </label>
      </div>
      {parse.busy ? (
        <p className="muted" role="status">
          Reading the metadata…
        </p>
      ) : null}
      {read ? (
        <p className="success wrap" role="status">
          Read: certificate “{read.certificate.subject}”, valid until {read.certificate.validTo}
          {read.otherSigningCertificates ? ` (${read.otherSigningCertificates} more signing certificate(s) listed: only this one is used)` : ''}. Check the
          fields below, then save.
        </p>
      ) : null}
      <ErrorMessage error={parse.error} title="Metadata not imported" />
    </fieldset>
  );
}
