import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { admin, call } from '../../api/client.ts';
import type { Connection } from '../../api/types.ts';
import { Badge, ErrorMessage, Loading, Page, Section } from '../../components/ui.tsx';
import { useAction, useResource } from '../../hooks.ts';
import { Activity } from './Activity.tsx';
import { Domains } from './Domains.tsx';
import { IdpSettings } from './IdpSettings.tsx';
import { ScimTokens } from './ScimTokens.tsx';
import { ConnectionSettings } from './Settings.tsx';
import { SetupPanels } from './SetupPanels.tsx';

/** The path parameters of a connection's routes. */
export const connectionParams = (connectionId: string) => ({ params: { path: { connectionId } } });

export function ConnectionPage() {
  const { id = '' } = useParams();
  const connection = useResource(`connection:${id}`, (signal) => call(admin.GET('/connections/{connectionId}', { ...connectionParams(id), signal })));
  if (connection.loading && !connection.data) return <Loading />;
  if (!connection.data) return <ErrorMessage error={connection.error} retry={connection.reload} title="Connection not loaded" />;
  const c = connection.data;
  return (
    <Page
      title={c.name}
      actions={
        <>
          <Badge>{c.type.toUpperCase()}</Badge>
          {c.ssoSettingsComplete ? <Badge tone="good">SSO settings complete</Badge> : <Badge tone="warn">SSO settings incomplete</Badge>}
        </>
      }
    >
      <p className="muted wrap">
        <Link to="/connections">SSO connections</Link> / {c.name} · id <code>{c.id}</code>
      </p>
      <div className="grid-2">
        <ConnectionSettings connection={c} onSaved={connection.reload} />
        <IdpSettings connection={c} onSaved={connection.reload} />
      </div>
      <Domains connection={c} onChanged={connection.reload} />
      <ScimTokens connection={c} />
      <SetupPanels connection={c} />
      <Operations connection={c} />
      <Activity connectionId={c.id} />
    </Page>
  );
}

function Operations({ connection }: { connection: Connection }) {
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const sync = useAction(() => call(admin.POST('/connections/{connectionId}/sync', { ...connectionParams(connection.id), body: {} })));
  const remove = useAction(() => call(admin.DELETE('/connections/{connectionId}', connectionParams(connection.id))));
  const [jobId, setJobId] = useState<string>();
  return (
    <Section title="Operations">
      <div className="actions">
        <button
          type="button"
          className="secondary"
          disabled={sync.busy || !connection.scimEnabled}
          onClick={async () => {
            const result = await sync.run();
            if (result) setJobId(result.jobId);
          }}
        >
          {sync.busy ? 'Queuing…' : 'Re-run sync now'}
        </button>
        {!confirming ? (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Delete connection…
          </button>
        ) : (
          <>
            <span role="alert" className="notice">
              Delete “{connection.name}”? Sign-in and SCIM through it stop at once.
            </span>
            <button type="button" className="danger" disabled={remove.busy} onClick={async () => (await remove.run()) === undefined && !remove.error && navigate('/connections')}>
              Yes, delete
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        )}
      </div>
      {!connection.scimEnabled ? <p className="hint">Sync re-applies role mapping to SCIM users: enable SCIM first.</p> : null}
      {jobId ? (
        <p className="success" role="status">
          Sync queued (job <code>{jobId}</code>). Follow it on the job dashboard.
        </p>
      ) : null}
      <ErrorMessage error={sync.error} title="Sync not queued" />
      <ErrorMessage error={remove.error} title="Not deleted" />
    </Section>
  );
}
