import { admin, call } from '../../api/client.ts';
import { Badge, ErrorMessage, formatDate, Loading, Section } from '../../components/ui.tsx';
import { useResource } from '../../hooks.ts';

const KIND: Record<string, string> = {
  idp_request: 'IdP request',
  admin_request: 'admin change',
  decision: 'role mapping',
  change: 'change',
  job: 'job',
  sessions_ended: 'sessions ended',
  deactivation: 'deactivation',
  refused_sign_in: 'sign-in refused',
  not_served: 'organization not served',
};

/**
 * "Why does this person have (or not have) this access?" — the explain chain from the audit trail
 * (GET /people/:person/explain; docs/people-and-explain.md): IdP request → role-mapping decision →
 * change → job → sessions ended, each step naming its audit event.
 */
export function Explain({ personId }: { personId: string }) {
  const explain = useResource(`explain:${personId}`, (signal) => call(admin.GET('/people/{person}/explain', { params: { path: { person: personId } }, signal })));
  const e = explain.data;
  return (
    <Section title="Why: the explain chain">
      {explain.loading && !e ? <Loading label="Reading the audit trail…" /> : null}
      <ErrorMessage error={explain.error} retry={explain.reload} title="Explanation not loaded" />
      {e ? (
        <>
          <p className="wrap" role="status">
            {e.now.summary}
          </p>
          {e.chain.length === 0 ? <p className="empty">No recorded step about this person.</p> : null}
          {e.chain.length ? (
            <ol className="explain-chain" aria-label="Explain chain">
              {e.chain.map((step) => (
                <li key={step.n} className={e.whyNot.includes(step.n) ? 'why-not' : undefined}>
                  <Badge tone={e.whyNot.includes(step.n) ? 'bad' : step.kind === 'change' ? 'good' : 'neutral'}>{KIND[step.kind] ?? step.kind}</Badge>{' '}
                  <span className="wrap">{step.summary}</span>{' '}
                  <span className="muted">
                    {formatDate(step.at)} · <code>{step.action}</code>
                    {step.sealed ? '' : ' · not yet sealed'}
                  </span>
                </li>
              ))}
            </ol>
          ) : null}
        </>
      ) : null}
    </Section>
  );
}
