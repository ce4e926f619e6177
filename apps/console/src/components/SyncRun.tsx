import { useEffect, useId, useRef, useState } from 'react';
import { admin, call } from '../api/client.ts';
import type { AuditEvent } from '../api/types.ts';
import { ErrorMessage } from './ui.tsx';

/** What the role-mapping sync job reports when it finishes (its `sync.completed` audit event). */
export interface SyncSummary {
  users: number;
  changed: number;
  failed: number;
  changes?: { added?: number; removed?: number; roleChanged?: number; teamsCreated?: number; sessionsEnded?: number };
  errors?: Array<{ userId: string; message: string }>;
}

type QueueNow = { active: number; waiting: number; dashboard: string | null };
type Run = { state: 'queued'; jobId: string; baseline: number; checks: number; queue?: QueueNow } | { state: 'done'; jobId: string; summary: SyncSummary; at: string; ranAs: string | null } | { state: 'unknown'; jobId: string; reason: string };

// The first look is soon (a small connection syncs in well under a second), then every 1.5 s.
const pollDelay = (checks: number) => (checks === 0 ? 400 : 1500);
/** About five minutes of polling; a longer run is still followed on the job dashboard. */
const MAX_CHECKS = 200;

// BullMQ ids are the outbox ids with ':' escaped (packages/jobs job-options.ts): compare both forms.
const sameJob = (eventJobId: string | null, jobId: string) => eventJobId !== null && (eventJobId === jobId || safeDecode(eventJobId) === jobId);
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The sync queue's depth now (GET /health): whether the run waits or runs. Undefined when unreadable. */
const syncQueue = (): Promise<QueueNow | undefined> =>
  call(admin.GET('/health')).then(
    (h) => {
      const q = h.jobs.queues.find((x) => x.queue === 'sync');
      return q ? { active: q.active, waiting: q.waiting + q.delayed, dashboard: h.jobDashboard } : undefined;
    },
    () => undefined,
  );

const completions = (connectionId: string, limit: number) =>
  call(admin.GET('/audit', { params: { query: { connectionId, action: 'sync.completed', limit } } })).then((r) => r.events);

/**
 * The summary of the run that answers our request: the `sync.completed` event of our job, or of the
 * first run after we asked (a request made while a sync of the connection waits is merged into it,
 * docs/group-mapping.md, so our job id may never run itself).
 */
export function findCompletion(events: AuditEvent[], jobId: string, baseline: number): AuditEvent | undefined {
  const newer = events.filter((e) => e.seq > baseline);
  return newer.find((e) => sameJob(e.jobId, jobId)) ?? newer.at(-1);
}

export function summaryOf(event: AuditEvent): SyncSummary | undefined {
  const after = (event.changes?.summary as { after?: SyncSummary } | undefined)?.after;
  return after && typeof after.users === 'number' ? after : undefined;
}

/**
 * "Re-run sync" for one connection (POST /connections/:connection/sync, the role-mapping plugin):
 * queues the job, then follows it until its `sync.completed` audit event shows the result (people
 * looked at, changed, refused, and the first refusals). Per-batch progress is on the job dashboard.
 */
export function SyncRun({ connectionId, connectionName, disabled, label = 'Re-run sync', onFinished }: { connectionId: string; connectionName: string; disabled?: boolean; label?: string; onFinished?(): void }) {
  const [run, setRun] = useState<Run>();
  const [error, setError] = useState<Error>();
  const [starting, setStarting] = useState(false);
  const statusId = useId();
  const finished = useRef(onFinished);
  finished.current = onFinished;

  const start = async () => {
    setError(undefined);
    setRun(undefined);
    setStarting(true);
    try {
      // The newest completion before we ask: any later one is a run that saw our request.
      const baseline = await completions(connectionId, 1).then(
        (events) => events[0]?.seq ?? 0,
        () => undefined,
      );
      const { jobId } = await call(admin.POST('/connections/{connectionId}/sync', { params: { path: { connectionId } }, body: {} }));
      setRun(baseline === undefined ? { state: 'unknown', jobId, reason: 'the audit trail is not readable here, so the result cannot be shown' } : { state: 'queued', jobId, baseline, checks: 0 });
    } catch (err) {
      setError(err as Error);
    } finally {
      setStarting(false);
    }
  };

  const polling = run?.state === 'queued' ? run : undefined;
  useEffect(() => {
    if (!polling) return;
    let stopped = false;
    const timer = setTimeout(async () => {
      const [events, queue] = await Promise.all([completions(connectionId, 20).catch(() => undefined), syncQueue()]);
      if (stopped) return;
      const done = events && findCompletion(events, polling.jobId, polling.baseline);
      const summary = done && summaryOf(done);
      if (done && summary) {
        setRun({ state: 'done', jobId: polling.jobId, summary, at: done.occurredAt, ranAs: sameJob(done.jobId, polling.jobId) ? null : done.jobId });
        finished.current?.();
      } else if (polling.checks + 1 >= MAX_CHECKS) setRun({ state: 'unknown', jobId: polling.jobId, reason: 'it has not finished after five minutes' });
      else setRun({ ...polling, checks: polling.checks + 1, queue });
    }, pollDelay(polling.checks));
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [connectionId, polling]);

  const busy = starting || run?.state === 'queued';
  return (
    <div className="sync-run">
      {/* While it runs the button stays focusable (aria-disabled): disabling it would drop a keyboard user's focus. */}
      <button type="button" className="secondary" disabled={disabled} aria-disabled={busy || undefined} onClick={() => !busy && start()} aria-describedby={statusId}>
        {starting ? 'Queuing…' : run?.state === 'queued' ? 'Sync running…' : label}
      </button>
      <div id={statusId} role="status" aria-live="polite" className="wrap">
        {run?.state === 'queued' ? (
          <p className="loading">
            <span className="spinner" aria-hidden="true" /> Sync of {connectionName} queued (job <code>{run.jobId}</code>): waiting for it to finish.
            {run.queue ? ` Sync queue now: ${run.queue.active} running, ${run.queue.waiting} waiting.` : ''} Per-batch progress is on{' '}
            {run.queue?.dashboard ? <a href={run.queue.dashboard}>the job dashboard</a> : 'the job dashboard'}.
          </p>
        ) : null}
        {run?.state === 'done' ? <SyncResult name={connectionName} summary={run.summary} ranAs={run.ranAs} /> : null}
        {run?.state === 'unknown' ? (
          <p className="notice">
            Sync queued (job <code>{run.jobId}</code>), but {run.reason}: follow it on the job dashboard (<a href="/admin/queues">open</a>).
          </p>
        ) : null}
      </div>
      <ErrorMessage error={error} title="Sync not queued" />
    </div>
  );
}

/** `ranAs`: the job that answered, when it is not ours (the request was merged into a sync already queued). */
function SyncResult({ name, summary, ranAs }: { name: string; summary: SyncSummary; ranAs: string | null }) {
  const c = summary.changes ?? {};
  return (
    <div className={summary.failed ? 'notice' : 'success'}>
      <p>
        {ranAs ? (
          <>
            The request joined a sync of {name} already queued (job <code>{ranAs}</code>), which{' '}
          </>
        ) : (
          <>Sync of {name} </>
        )}
        finished: {summary.users} {summary.users === 1 ? 'person' : 'people'} checked, {summary.changed} changed, {summary.failed} refused.
        {summary.changed ? ` Memberships added ${c.added ?? 0}, removed ${c.removed ?? 0}, roles changed ${c.roleChanged ?? 0}, sessions ended ${c.sessionsEnded ?? 0}.` : ''}
      </p>
      {summary.errors?.length ? (
        <ul aria-label="Refused by role mapping">
          {summary.errors.map((e) => (
            <li key={e.userId} className="wrap">
              <code>{e.userId}</code>: {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
