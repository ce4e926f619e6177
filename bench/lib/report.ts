import { cpus } from 'node:os';
import type { LoadResult } from './load.ts';

/** The same-run ceilings the targets (#26) compare with; the first two are the bare app alone. */
export type CeilingName = 'bare GET' | 'bare POST' | 'bare GET + page query' | 'bare POST + durable UPDATE' | 'bare POST + durable INSERT';

export interface ScenarioLine {
  name: string;
  result: LoadResult;
  /** The ceiling this scenario is compared with, and the target for the ratio. */
  ceiling?: { name: CeilingName; rps: number; target: number };
}

const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
const pad = (s: string, n: number, right = false) => (right ? s.padStart(n) : s.padEnd(n));

/** CPU microseconds per request of every process that served it, summed. */
export const cpuTotal = (micros: Record<string, number>) => Object.values(micros).reduce((a, b) => a + b, 0);
/** `gateway 746, database 550, load generator 120` */
export const cpuParts = (micros: Record<string, number>) => Object.entries(micros).map(([k, v]) => `${k} ${fixed(v, 0)}`).join(', ');
/** The CPU microseconds per request (or job) this machine's cores allow at `rate` per second. */
export const cpuBudgetMicros = (rate: number) => (cpus().length * 1e6) / rate;

/** ok / MISS for a figure against its target. */
export const verdict = (pass: boolean) => (pass ? 'ok' : 'MISS');

export function ratioOf(line: ScenarioLine) {
  if (!line.ceiling) return null;
  const ratio = line.result.rps / line.ceiling.rps;
  return { ratio, target: line.ceiling.target, pass: ratio >= line.ceiling.target };
}

/** The scenarios as a fixed-width table. */
export function scenarioTable(lines: ScenarioLine[]): string {
  const header = [pad('scenario', 30), pad('req/s', 9, true), pad('p50 ms', 8, true), pad('p99 ms', 8, true), pad('non-2xx', 8, true), pad('errors', 7, true), pad('requests', 9, true), pad('CPU µs/req', 11, true), '  ratio to ceiling                            target  ']
  const rows = lines.map(({ name, result, ceiling }) => {
    const r = ratioOf({ name, result, ceiling });
    const ratio = r ? `${pad(pct(r.ratio), 6, true)} of ${ceiling!.name}` : '';
    const target = r ? `>= ${pct(r.target).replace('.0%', '%')}  ${verdict(r.pass)}` : '';
    return [
      pad(name, 30),
      pad(fixed(result.rps), 9, true),
      pad(result.requests ? fixed(result.p50, 1) : '-', 8, true),
      pad(result.requests ? fixed(result.p99, 1) : '-', 8, true),
      pad(String(result.non2xx), 8, true),
      pad(String(result.errors), 7, true),
      pad(String(result.requests), 9, true),
      // Every process that served the run (gateway or bare app, database, load generator), summed.
      pad(result.cpuMicros ? fixed(cpuTotal(result.cpuMicros), 0) : '-', 11, true),
      `  ${pad(ratio, 43)}${target}`,
    ].join(' ');
  });
  const out = [header.join(' '), '-'.repeat(header.join(' ').length), ...rows];
  return out.join('\n');
}

export { fixed, pct };
