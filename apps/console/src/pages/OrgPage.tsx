import { useEffect, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { admin, call } from '../api/client.ts';
import type { Body, Org, Team } from '../api/types.ts';
import { Badge, ErrorMessage, Field, Loading, Page, Section, Table } from '../components/ui.tsx';
import { useAction, useResource } from '../hooks.ts';
import { Provenance, teamList } from '../components/Provenance.tsx';

const orgPath = (org: string) => ({ params: { path: { org } } });

export function OrgPage() {
  const { org: ref = '' } = useParams();
  const org = useResource(`org:${ref}`, (signal) => call(admin.GET('/orgs/{org}', { ...orgPath(ref), signal })));
  if (org.loading && !org.data) return <Loading />;
  if (!org.data) return <ErrorMessage error={org.error} retry={org.reload} title="Organization not loaded" />;
  return (
    <Page title={org.data.displayName ?? org.data.name}>
      <p className="muted wrap">
        <Link to="/orgs">Organizations</Link> / {org.data.name}
      </p>
      <OrgSettings org={org.data} onSaved={org.reload} />
      <Teams org={org.data} />
      <Members org={org.data} />
    </Page>
  );
}

function OrgSettings({ org, onSaved }: { org: Org; onSaved(): void }) {
  const [displayName, setDisplayName] = useState(org.displayName ?? '');
  const [seatLimit, setSeatLimit] = useState(org.seatLimit?.toString() ?? '');
  useEffect(() => {
    setDisplayName(org.displayName ?? '');
    setSeatLimit(org.seatLimit?.toString() ?? '');
  }, [org]);
  const save = useAction((body: Body<'/orgs/{org}', 'patch'>) => call(admin.PATCH('/orgs/{org}', { ...orgPath(org.id), body })));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await save.run({ displayName: displayName.trim() || null, seatLimit: seatLimit ? Number(seatLimit) : null })) onSaved();
  };
  return (
    <Section title="Settings">
      <form className="inline-form" onSubmit={submit}>
        <Field label="Display name">{(props) => <input {...props} value={displayName} maxLength={255} onChange={(e) => setDisplayName(e.target.value)} />}</Field>
        <Field label="Seat limit" hint="Empty: no limit.">
          {(props) => <input {...props} type="number" min={1} value={seatLimit} onChange={(e) => setSeatLimit(e.target.value)} />}
        </Field>
        <button type="submit" disabled={save.busy}>
          {save.busy ? 'Saving…' : 'Save'}
        </button>
      </form>
      <ErrorMessage error={save.error} title="Not saved" />
    </Section>
  );
}

function Teams({ org }: { org: Org }) {
  const teams = useResource(`teams:${org.id}`, (signal) => call(admin.GET('/orgs/{org}/teams', { ...orgPath(org.id), signal })));
  const [name, setName] = useState('');
  const create = useAction((teamName: string) => call(admin.POST('/orgs/{org}/teams', { ...orgPath(org.id), body: { name: teamName } })));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await create.run(name)) {
      setName('');
      teams.reload();
    }
  };
  return (
    <Section title="Teams">
      {teams.loading && !teams.data ? <Loading /> : null}
      <ErrorMessage error={teams.error} retry={teams.reload} />
      {teams.data?.teams.length === 0 ? <p className="empty">No teams.</p> : null}
      {teams.data?.teams.length ? (
        <ul className="team-list">
          {teams.data.teams.map((t) => (
            <TeamRow key={t.id} org={org} team={t} onRenamed={teams.reload} />
          ))}
        </ul>
      ) : null}
      <form className="inline-form" onSubmit={submit}>
        <Field label="New team name">{(props) => <input {...props} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />}</Field>
        <button type="submit" disabled={create.busy}>
          {create.busy ? 'Creating…' : 'Create team'}
        </button>
      </form>
      <ErrorMessage error={create.error} title="Team not created" />
    </Section>
  );
}

function TeamRow({ org, team, onRenamed }: { org: Org; team: Team; onRenamed(): void }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(team.name);
  const rename = useAction((next: string) => call(admin.PATCH('/orgs/{org}/teams/{team}', { params: { path: { org: org.id, team: team.id } }, body: { name: next } })));
  if (!editing) {
    return (
      <li>
        <span className="wrap">{team.name}</span>
        <button type="button" className="secondary small" onClick={() => setEditing(true)} aria-label={`Rename team ${team.name}`}>
          Rename
        </button>
      </li>
    );
  }
  return (
    <li>
      <form
        className="inline-form"
        onSubmit={async (event) => {
          event.preventDefault();
          if (await rename.run(name)) {
            setEditing(false);
            onRenamed();
          }
        }}
      >
        <Field label={`New name for ${team.name}`}>{(props) => <input {...props} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} autoFocus />}</Field>
        <button type="submit" disabled={rename.busy}>
          Save name
        </button>
        <button type="button" className="secondary" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </form>
      <ErrorMessage error={rename.error} title="Not renamed" />
    </li>
  );
}

const PAGE = 50;

function Members({ org }: { org: Org }) {
  const [offset, setOffset] = useState(0);
  const members = useResource(`members:${org.id}:${offset}`, (signal) =>
    call(admin.GET('/orgs/{org}/members', { params: { path: { org: org.id }, query: { limit: PAGE, offset } }, signal })),
  );
  return (
    <Section title={`Members${members.data ? ` (${members.data.total})` : ''}`}>
      {members.loading && !members.data ? <Loading /> : null}
      <ErrorMessage error={members.error} retry={members.reload} />
      {members.data?.members.length === 0 ? <p className="empty">No members yet: they arrive through SCIM or SSO sign-in.</p> : null}
      {members.data?.members.length ? (
        <Table caption={`Members of ${org.name}`}>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Role</th>
              <th scope="col">Provenance</th>
              <th scope="col">Teams</th>
            </tr>
          </thead>
          <tbody>
            {members.data.members.map((m) => (
              <tr key={m.userId}>
                <td className="wrap">
                  <Link to={`/people/${encodeURIComponent(m.userId)}`}>{m.email ?? m.username ?? m.userId}</Link>
                </td>
                <td>
                  <Badge tone={m.role === 'owner' ? 'warn' : 'neutral'}>{m.role}</Badge>
                </td>
                <td className="wrap">
                  <Provenance member={m} />
                </td>
                <td className="wrap">{teamList(m)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      {members.data && members.data.total > PAGE ? (
        <div className="pager">
          <button type="button" className="secondary small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous
          </button>
          <span>
            {offset + 1}–{Math.min(offset + PAGE, members.data.total)} of {members.data.total}
          </span>
          <button type="button" className="secondary small" disabled={offset + PAGE >= members.data.total} onClick={() => setOffset(offset + PAGE)}>
            Next
          </button>
        </div>
      ) : null}
    </Section>
  );
}
