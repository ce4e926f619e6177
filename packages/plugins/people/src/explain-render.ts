/**
 * `doorman explain` as a person reads it: the answer now, then the numbered chain with times and audit
 * event ids (indented under the request, job or refusal they follow from), then the "why not" steps.
 * Pure: the API body in, text out (`--json` prints the body itself).
 */
import type { Explanation } from './explain-chain.ts';

const ROOT = new Set(['idp_request', 'admin_request', 'deactivation', 'refused_sign_in', 'job']);

export function renderExplanation(body: unknown): string {
  const x = body as Explanation;
  const scope = x.team ? `team ${x.team.name ?? x.team.id}${x.org ? ` of ${x.org.name ?? x.org.id}` : ''}` : x.org ? `organization ${x.org.name ?? x.org.id}` : 'every organization';
  const lines = [`${x.person.email} (${x.person.id}), ${scope}`, `Now: ${x.now.summary}`, ''];
  if (!x.chain.length) lines.push('No audit event explains this person here.');
  else lines.push('Chain (audit event id in brackets; verify with `doorman audit verify`):');
  const width = String(x.chain.length).length;
  for (const s of x.chain) {
    const time = s.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    const indent = ROOT.has(s.kind) ? '' : '   → ';
    lines.push(`${String(s.n).padStart(width)}. ${time}  ${indent}${s.summary}  [${s.eventId}]${s.sealed ? '' : ' (not sealed yet)'}`);
  }
  if (x.whyNot.length) {
    lines.push('', 'Why not:');
    for (const n of x.whyNot) lines.push(`  step ${n}: ${x.chain[n - 1]?.summary ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}
