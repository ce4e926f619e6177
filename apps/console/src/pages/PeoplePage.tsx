import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { admin, call } from '../api/client.ts';
import { ErrorMessage, Field, formatDate, Loading, Page, Section, Table } from '../components/ui.tsx';
import { useResource } from '../hooks.ts';

const PAGE = 50;

/** Search by a prefix of email, username, name, SCIM userName or externalId (GET /people). */
export function PeoplePage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const [draft, setDraft] = useState(q);
  const [cursor, setCursor] = useState<string | undefined>();
  const people = useResource(`people:${q}:${cursor}`, (signal) => call(admin.GET('/people', { params: { query: { ...(q ? { q } : {}), limit: PAGE, cursor } }, signal })));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCursor(undefined);
    setParams(draft ? { q: draft } : {});
  };
  const list = people.data?.people;
  return (
    <Page title="People">
      <Section title="Search">
        <form className="inline-form" onSubmit={submit} role="search">
          <Field label="Email, username, name or id" hint="The start of it; case does not matter.">
            {(props) => <input {...props} type="search" value={draft} onChange={(e) => setDraft(e.target.value)} />}
          </Field>
          <button type="submit">Search</button>
        </form>
      </Section>
      <Section title={q ? `People matching “${q}”` : 'People'}>
        {people.loading && !people.data ? <Loading /> : null}
        <ErrorMessage error={people.error} retry={people.reload} />
        {list && list.length === 0 ? <p className="empty">{q ? 'Nobody matches.' : 'Nobody has been provisioned yet.'}</p> : null}
        {list?.length ? (
          <Table caption="People">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Username</th>
                <th scope="col">Name</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {list.map((p) => (
                <tr key={p.id}>
                  <td className="wrap">
                    <Link to={`/people/${encodeURIComponent(p.id)}`}>{p.email}</Link>
                  </td>
                  <td className="wrap">{p.username}</td>
                  <td className="wrap">{p.fullName ?? '—'}</td>
                  <td>{formatDate(p.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : null}
        <div className="pager">
          {cursor ? (
            <button type="button" className="secondary small" onClick={() => setCursor(undefined)}>
              First page
            </button>
          ) : null}
          {people.data?.nextCursor ? (
            <button type="button" className="secondary small" onClick={() => setCursor(people.data!.nextCursor!)}>
              More people
            </button>
          ) : null}
        </div>
      </Section>
    </Page>
  );
}
