import { Badge, ErrorMessage, Loading, Page, Section, Table } from '../components/ui.tsx';
import { admin, call } from '../api/client.ts';
import { useResource } from '../hooks.ts';


export function HealthPage() {
  const health = useResource('health', (signal) => call(admin.GET('/health', { signal })));
  const h = health.data;
  return (
    <Page
      title="Health"
      actions={
        <button type="button" className="secondary" onClick={health.reload} disabled={health.loading}>
          {health.loading ? 'Refreshing…' : 'Refresh'}
        </button>
      }
    >
      {health.loading && !h ? <Loading /> : null}
      <ErrorMessage error={health.error} retry={health.reload} title="Health not loaded" />
      {h ? (
        <>
          <Section title="Readiness">
            <p role="status">{h.ready ? <Badge tone="good">ready</Badge> : <Badge tone="bad">not ready</Badge>}</p>
            <dl className="props">
              {Object.entries(h.checks).map(([name, value]) => (
                <div key={name} className="contents">
                  <dt>{name}</dt>
                  <dd>{value === 'ok' ? <Badge tone="good">ok</Badge> : <span className="error">{value}</span>}</dd>
                </div>
              ))}
            </dl>
          </Section>
          <Section
            title="Jobs"
            actions={
              h.jobDashboard ? (
                <a className="button-link" href={h.jobDashboard}>
                  Open the job dashboard
                </a>
              ) : (
                <span className="muted">Jobs run inline (no Redis): there is no job dashboard.</span>
              )
            }
          >
            <dl className="props">
              <dt>Outbox backlog</dt>
              <dd>{h.jobs.outboxPending ?? '—'} not yet relayed</dd>
              <dt>Relayed, unfinished</dt>
              <dd>{h.jobs.outboxUnfinished ?? '—'}</dd>
              <dt>Failed jobs</dt>
              <dd>{h.jobs.failedJobs ? <Badge tone="bad">{h.jobs.failedJobs}</Badge> : <Badge tone="good">0</Badge>}</dd>
            </dl>
            {h.jobs.queues.length ? (
              <Table caption="Queues">
                <thead>
                  <tr>
                    <th scope="col">Queue</th>
                    <th scope="col">Waiting</th>
                    <th scope="col">Active</th>
                    <th scope="col">Delayed</th>
                    <th scope="col">Failed</th>
                  </tr>
                </thead>
                <tbody>
                  {h.jobs.queues.map((q) => (
                    <tr key={q.queue}>
                      <td>{q.queue}</td>
                      <td>{q.waiting}</td>
                      <td>{q.active}</td>
                      <td>{q.delayed}</td>
                      <td>{q.failed}</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            ) : (
              <p className="empty">No queue figures ({h.jobs.driver === 'inline' ? 'inline jobs' : 'Redis not answering'}).</p>
            )}
          </Section>
        </>
      ) : null}
    </Page>
  );
}
