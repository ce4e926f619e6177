import { useState } from 'react';
import { admin, call } from '../../api/client.ts';
import type { Connection } from '../../api/types.ts';
import { Badge, CopyButton, CopyValue, ErrorMessage, formatDate, Loading, Section, Table } from '../../components/ui.tsx';
import { useAction, useResource } from '../../hooks.ts';
import { useSession } from '../../session-context.ts';
import { connectionParams } from './ConnectionPage.tsx';


/** SCIM base URL and tokens: a new token is shown once, here, and never again. */
export function ScimTokens({ connection }: { connection: Connection }) {
  const { publicUrl } = useSession();
  const tokens = useResource(`scim-tokens:${connection.id}`, (signal) => call(admin.GET('/connections/{connectionId}/scim-tokens', { ...connectionParams(connection.id), signal })));
  const [secret, setSecret] = useState<string>();
  const issue = useAction(() => call(admin.POST('/connections/{connectionId}/scim-tokens', { ...connectionParams(connection.id), body: { name: 'console' } })));
  const rotate = useAction((tokenId: string) => call(admin.POST('/connections/{connectionId}/scim-tokens/{tokenId}/rotate', { params: { path: { connectionId: connection.id, tokenId } }, body: {} })));
  const revoke = useAction((tokenId: string) => call(admin.DELETE('/connections/{connectionId}/scim-tokens/{tokenId}', { params: { path: { connectionId: connection.id, tokenId } } })));
  const shown = async (p: Promise<{ token: string } | undefined>) => {
    const result = await p;
    if (result) setSecret(result.token);
    tokens.reload();
  };
  return (
    <Section title="SCIM">
      <CopyValue label="SCIM base URL" value={`${publicUrl}/scim/v2`} />
      {!connection.scimEnabled ? <p className="notice">SCIM is disabled on this connection: the IdP’s requests are refused until you enable it above.</p> : null}
      {secret ? (
        <div className="success" role="status">
          <p>
            <strong>New SCIM token — copy it now, it is not shown again:</strong>
          </p>
          <code className="wrap" data-testid="new-token">
            {secret}
          </code>{' '}
          <CopyButton value={secret} label="Copy token" />{' '}
          <button type="button" className="link-button" onClick={() => setSecret(undefined)}>
            I have copied it
          </button>
        </div>
      ) : null}
      {tokens.loading && !tokens.data ? <Loading /> : null}
      <ErrorMessage error={tokens.error} retry={tokens.reload} />
      {tokens.data?.tokens.length ? (
        <Table caption="SCIM tokens">
          <thead>
            <tr>
              <th scope="col">Token</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.tokens.map((t) => (
              <tr key={t.id}>
                <td className="wrap">
                  <code>{t.prefix}…</code> {t.revokedAt ? <Badge tone="bad">revoked</Badge> : t.expiresAt && new Date(t.expiresAt) < new Date() ? <Badge tone="bad">expired</Badge> : <Badge tone="good">active</Badge>}
                </td>
                <td>{formatDate(t.createdAt)}</td>
                <td>{formatDate(t.lastUsedAt)}</td>
                <td>{t.expiresAt ? formatDate(t.expiresAt) : 'never'}</td>
                <td className="actions">
                  {!t.revokedAt ? (
                    <>
                      <button type="button" className="secondary small" disabled={rotate.busy} onClick={() => shown(rotate.run(t.id))} aria-label={`Rotate ${t.prefix}`}>
                        Rotate
                      </button>
                      <button type="button" className="danger small" disabled={revoke.busy} onClick={async () => (await revoke.run(t.id), tokens.reload())} aria-label={`Revoke ${t.prefix}`}>
                        Revoke
                      </button>
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : tokens.data ? (
        <p className="empty">No tokens yet.</p>
      ) : null}
      <div className="actions">
        <button type="button" disabled={issue.busy} onClick={() => shown(issue.run())}>
          {issue.busy ? 'Issuing…' : 'Issue SCIM token'}
        </button>
      </div>
      <p className="hint">Rotating issues a new token; the old one keeps working for the grace period (24 h by default) so the IdP can be updated.</p>
      <ErrorMessage error={issue.error ?? rotate.error ?? revoke.error} title="Token not changed" />
    </Section>
  );
}
