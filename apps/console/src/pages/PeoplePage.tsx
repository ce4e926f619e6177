import { useEffect, useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { api } from '../api/client.ts';
import type { Member, Org } from '../api/types.ts';
import { Badge, ErrorMessage, Field, Loading, Page, Section, Table } from '../components/ui.tsx';
import { Provenance, teamList } from '../components/Provenance.tsx';

export interface Membership extends Member {
  org: Org;
}

/**
 * Every organization's members, read through the organization member listings (the admin API's
 * people search is a separate, later addition; this reads what exists today). Capped per org.
 */
function useAllMemberships() {
  const [state, setState] = useState<{ data?: Membership[]; error?: Error; loading: boolean }>({ loading: true });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ data: s.data, loading: true }));
    (async () => {
      const { orgs } = await api.get<{ orgs: Org[] }>('/admin/v1/orgs?limit=1000', controller.signal);
      const lists = await Promise.all(orgs.map(async (org) => (await api.get<{ members: Member[] }>(`/admin/v1/orgs/${org.id}/members?limit=1000`, controller.signal)).members.map((m) => ({ ...m, org }))));
      return lists.flat();
    })().then(
      (data) => setState({ data, loading: false }),
      (error: Error) => error.name !== 'AbortError' && setState({ error, loading: false }),
    );
    return () => controller.abort();
  }, [generation]);
  return { ...state, reload: () => setGeneration((g) => g + 1) };
}

export function PeoplePage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const [draft, setDraft] = useState(q);
  const all = useAllMemberships();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setParams(draft ? { q: draft } : {});
  };
  const people = new Map<string, Membership[]>();
  for (const m of all.data ?? []) {
    const text = `${m.email ?? ''} ${m.username ?? ''} ${m.userId}`.toLowerCase();
    if (q && !text.includes(q.toLowerCase())) continue;
    people.set(m.userId, [...(people.get(m.userId) ?? []), m]);
  }
  return (
    <Page title="People">
      <Section title="Search">
        <form className="inline-form" onSubmit={submit} role="search">
          <Field label="Email, username or id">{(props) => <input {...props} type="search" value={draft} onChange={(e) => setDraft(e.target.value)} />}</Field>
          <button type="submit">Search</button>
        </form>
      </Section>
      <Section title={all.data ? `${people.size} ${people.size === 1 ? 'person' : 'people'}` : 'People'}>
        {all.loading && !all.data ? <Loading /> : null}
        <ErrorMessage error={all.error} retry={all.reload} />
        {all.data && people.size === 0 ? <p className="empty">{q ? 'Nobody matches.' : 'Nobody has been provisioned yet.'}</p> : null}
        {people.size ? (
          <Table caption="People">
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Memberships</th>
              </tr>
            </thead>
            <tbody>
              {[...people.entries()].map(([userId, ms]) => (
                <tr key={userId}>
                  <td className="wrap">
                    <Link to={`/people/${encodeURIComponent(userId)}`}>{ms[0]!.email ?? ms[0]!.username ?? userId}</Link>
                  </td>
                  <td className="wrap">{ms.map((m) => `${m.org.name} (${m.role}, ${m.source})`).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : null}
      </Section>
    </Page>
  );
}

export function PersonPage() {
  const { id = '' } = useParams();
  const all = useAllMemberships();
  if (all.loading && !all.data) return <Loading />;
  if (!all.data) return <ErrorMessage error={all.error} retry={all.reload} title="Person not loaded" />;
  const ms = all.data.filter((m) => m.userId === id);
  const first = ms[0];
  return (
    <Page title={first?.email ?? first?.username ?? id}>
      <p className="muted wrap">
        <Link to="/people">People</Link> / id <code>{id}</code>
      </p>
      <Section title="Memberships and provenance">
        {ms.length === 0 ? <p className="empty">No current memberships (never provisioned, or deprovisioned everywhere).</p> : null}
        {ms.length ? (
          <Table caption="Memberships">
            <thead>
              <tr>
                <th scope="col">Organization</th>
                <th scope="col">Role</th>
                <th scope="col">Granted by</th>
                <th scope="col">Teams</th>
              </tr>
            </thead>
            <tbody>
              {ms.map((m) => (
                <tr key={m.org.id}>
                  <td className="wrap">
                    <Link to={`/orgs/${encodeURIComponent(m.org.name)}`}>{m.org.name}</Link>
                  </td>
                  <td>
                    <Badge>{m.role}</Badge>
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
      </Section>
    </Page>
  );
}
