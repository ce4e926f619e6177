import { Link, useParams } from 'react-router';
import { admin, call } from '../../api/client.ts';
import type { Person } from '../../api/types.ts';
import { Badge, ErrorMessage, formatDate, Loading, Page, Section, Table } from '../../components/ui.tsx';
import { Grant } from '../../components/Provenance.tsx';
import { useResource } from '../../hooks.ts';
import { Explain } from './Explain.tsx';
import { Sessions } from './Sessions.tsx';
import { PersonSync } from './Sync.tsx';

const STATE_TONE = { active: 'good', deactivated: 'warn', deleted: 'bad' } as const;

/** One person: the account, per-connection state, memberships with provenance, sessions, jobs (GET /people/:person). */
export function PersonPage() {
  const { id = '' } = useParams();
  const person = useResource(`person:${id}`, (signal) => call(admin.GET('/people/{person}', { params: { path: { person: id } }, signal })));
  if (person.loading && !person.data) return <Loading />;
  if (!person.data) return <ErrorMessage error={person.error} retry={person.reload} title="Person not loaded" />;
  const p = person.data;
  const names = new Map(p.connections.map((c) => [c.connectionId, c.connectionName]));
  return (
    <Page title={p.account.email}>
      <p className="muted wrap">
        <Link to="/people">People</Link> / {p.account.username} · id <code>{p.account.id}</code>
      </p>
      <Section title="Account">
        <dl className="props">
          <dt>Email</dt>
          <dd className="wrap">{p.account.email}</dd>
          <dt>Username</dt>
          <dd className="wrap">{p.account.username}</dd>
          <dt>Name</dt>
          <dd className="wrap">{p.account.fullName ?? '—'}</dd>
          <dt>Created</dt>
          <dd>{formatDate(p.account.createdAt)}</dd>
        </dl>
      </Section>
      <Connections person={p} />
      <Explain personId={p.account.id} />
      <Memberships person={p} names={names} />
      <Sessions person={p} names={names} onChanged={person.reload} />
      <PersonSync person={p} onFinished={person.reload} />
      <Jobs person={p} />
    </Page>
  );
}

function Connections({ person }: { person: Person }) {
  return (
    <Section title="Per connection">
      {person.connections.length === 0 ? <p className="empty">No connection has provisioned this person by SCIM.</p> : null}
      {person.connections.length ? (
        <Table caption="State per connection">
          <thead>
            <tr>
              <th scope="col">Connection</th>
              <th scope="col">State</th>
              <th scope="col">SCIM userName</th>
              <th scope="col">externalId</th>
              <th scope="col">Last IdP request</th>
            </tr>
          </thead>
          <tbody>
            {person.connections.map((c) => (
              <tr key={c.connectionId}>
                <td className="wrap">
                  <Link to={`/connections/${c.connectionId}`}>{c.connectionName ?? c.connectionId}</Link>
                </td>
                <td>
                  <Badge tone={STATE_TONE[c.state]}>{c.state}</Badge>
                </td>
                <td className="wrap">{c.userName}</td>
                <td className="wrap">{c.externalId ?? '—'}</td>
                <td>{formatDate(c.lastIdpRequestAt)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
    </Section>
  );
}

function Memberships({ person, names }: { person: Person; names: Map<string, string | null> }) {
  const name = (c: string | null) => (c ? names.get(c) : undefined);
  return (
    <Section title="Memberships and provenance">
      {person.organizations.length === 0 ? <p className="empty">No current memberships (never provisioned, or deprovisioned everywhere).</p> : null}
      {person.organizations.length ? (
        <Table caption="Organization memberships">
          <thead>
            <tr>
              <th scope="col">Organization</th>
              <th scope="col">Role</th>
              <th scope="col">Granted by</th>
              <th scope="col">Teams</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {person.organizations.map((m) => (
              <tr key={m.orgId}>
                <td className="wrap">
                  <Link to={`/orgs/${encodeURIComponent(m.org ?? m.orgId)}`}>{m.org ?? m.orgId}</Link>
                </td>
                <td>
                  <Badge tone={m.role === 'owner' ? 'warn' : 'neutral'}>{m.role}</Badge>
                </td>
                <td className="wrap">
                  <Grant provenance={m.provenance} connectionName={name(m.provenance.connectionId)} />
                </td>
                <td className="wrap">
                  {person.teams
                    .filter((t) => t.orgId === m.orgId)
                    .map((t) => (
                      <span key={t.teamId} className="team-grant">
                        {t.team ?? t.teamId} (<Grant provenance={t.provenance} connectionName={name(t.provenance.connectionId)} />)
                      </span>
                    ))}
                </td>
                <td>{formatDate(m.since)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
    </Section>
  );
}

function Jobs({ person }: { person: Person }) {
  if (!person.jobs.length) return null;
  return (
    <Section title="Unfinished jobs about this person">
      <Table caption="Unfinished jobs">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">State</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last error</th>
          </tr>
        </thead>
        <tbody>
          {person.jobs.map((j) => (
            <tr key={j.jobId}>
              <td className="wrap">
                {j.queue}/{j.name}
              </td>
              <td>
                <Badge tone={j.state === 'failing' ? 'bad' : 'neutral'}>{j.state}</Badge>
              </td>
              <td>{j.attempts}</td>
              <td className="wrap">{j.lastError ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </Table>
    </Section>
  );
}
