import { Link, useNavigate, useParams } from 'react-router';
import { admin, call } from '../../api/client.ts';
import type { Connection } from '../../api/types.ts';
import { Badge, ErrorMessage, Loading, Page, Section } from '../../components/ui.tsx';
import { useAction, useResource } from '../../hooks.ts';
import { SyncRun } from '../../components/SyncRun.tsx';
import { ConfirmButton } from '../../components/Confirm.tsx';
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
  // true once deleted: useAction answers undefined when the call failed.
  const remove = useAction(() => call(admin.DELETE('/connections/{connectionId}', connectionParams(connection.id))).then(() => true));
  return (
    <Section title="Operations">
      <SyncRun connectionId={connection.id} connectionName={connection.name} disabled={!connection.scimEnabled} label="Re-run sync now" />
      {!connection.scimEnabled ? <p className="hint">Sync re-applies role mapping to SCIM users: enable SCIM first.</p> : null}
      <div className="actions">
        <ConfirmButton
          label="Delete connection…"
          question={<>Delete “{connection.name}”? Sign-in and SCIM through it stop at once.</>}
          confirmLabel="Yes, delete"
          busyLabel="Deleting…"
          busy={remove.busy}
          onConfirm={async () => {
            if (await remove.run()) navigate('/connections');
          }}
        />
      </div>
      <ErrorMessage error={remove.error} title="Not deleted" />
    </Section>
  );
}
