/**
 * The SCIM benchmark's report (scim-bench.ts): the table, the targets judged, and the BENCH_JSON
 * document, from the figures of one run.
 */
import { cpus, totalmem } from 'node:os';
import type { AuthenticatorCost } from '@doorman/plugin-token-auth/bench';
import type { BenchOptions } from './args.ts';
import { deprovisionSummary, type DeprovisionFigures } from './deprovision-report.ts';
import type { LoadResult } from './load.ts';
import { cpuBudgetMicros, cpuParts, cpuTotal, fixed, pct, ratioOf, scenarioTable, verdict, type ScenarioLine } from './report.ts';
import { TARGETS, type databaseStorage, type queryCosts } from './scim-scenarios.ts';

export interface ScimFigures {
  options: BenchOptions;
  lines: ScenarioLine[];
  totals: { non2xx: number; errors: number };
  bareGet: LoadResult;
  barePost: LoadResult;
  dbGet: LoadResult;
  dbPage: LoadResult;
  dbWrite: LoadResult;
  dbInsert: LoadResult;
  listBig: LoadResult;
  listSmall: LoadResult;
  authRuns: { perRound: number[]; cpuPerRequest: { a: number; b: number } };
  withAuth: LoadResult[];
  withoutAuth: LoadResult[];
  authRps: number;
  noAuthRps: number;
  throughputOverhead: number;
  authOverhead: number;
  roundSpread: string;
  rounds: number[];
  roundSe: number;
  isolated: AuthenticatorCost;
  isolatedShare: number;
  createAudit: LoadResult;
  createNoAudit: LoadResult;
  auditRatio: number;
  sampler: { max: number; byPhase: Record<string, number> };
  storage: Awaited<ReturnType<typeof databaseStorage>>;
  costs: Awaited<ReturnType<typeof queryCosts>>;
  seedSeconds: number;
  deprovision: DeprovisionFigures;
  loadBefore: number[];
  loadAfter: number[];
  gatewayWarnings: number;
  gatewayWarningLines: string[];
  /** The worker process (role `worker`): its RSS maximum and warn/error log lines. */
  worker: { rssMaxMb: number; warnings: number; warningLines: string[] };
}

export function scimReport(f: ScimFigures): { text: string; json: Record<string, unknown> } {
  const { options, lines, totals, bareGet, barePost, dbGet, dbPage, dbWrite, dbInsert, listBig, listSmall } = f;
  const { authRuns, withAuth, withoutAuth, authRps, noAuthRps, throughputOverhead, authOverhead, roundSpread, rounds, roundSe, isolated, isolatedShare } = f;
  const { createAudit, createNoAudit, auditRatio, sampler, storage, costs, seedSeconds, deprovision, loadBefore, loadAfter, gatewayWarnings, gatewayWarningLines, worker } = f;
  const deprovisioned = deprovisionSummary(deprovision);
  // A run where no request completed has no latency: every request took longer than the run.
  const listP99Ratio = listBig.requests && listSmall.requests ? listBig.p99 / listSmall.p99 : Number.NaN;
  const out: string[] = [];
  out.push('');
  out.push(`SCIM benchmark — ${options.users} users (+${options.smallUsers} on a second connection), ${options.connections} connections, ${options.duration} s per scenario after ${options.warmup} s warm-up`);
  out.push(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB; node ${process.version}; autocannon runs in the bench process on the same cores`);
  out.push('');
  out.push(scenarioTable(lines));
  out.push('');
  // What a target asks of this machine: at the target rate, the cores allow so much CPU per request
  // for everything that serves it (gateway, database, load generator); what this run used.
  const budgets = lines.flatMap((line) => {
    const r = ratioOf(line);
    const used = line.result.cpuMicros;
    if (!r || !used) return [];
    const neededRps = r.target * line.ceiling!.rps;
    return [{ name: line.name, neededRps, budget: cpuBudgetMicros(neededRps), used }];
  });
  if (budgets.length) {
    out.push(`CPU per request: what each target leaves on ${cpus().length} cores at the target rate, and what this run used (gateway, database, load generator):`);
    for (const b of budgets) {
      out.push(`  ${b.name.padEnd(32)} target ${fixed(b.neededRps, 0).padStart(6)} req/s → ${fixed(b.budget, 0).padStart(5)} µs;  used ${fixed(cpuTotal(b.used), 0).padStart(5)} µs (${cpuParts(b.used)})`);
    }
    out.push('');
  }
  // The same scenarios against the bare app alone (the #4 targets' ceilings, before #26 re-based
  // them on ceilings that include the database): informational.
  const bareOf = (line: ScenarioLine) => (line.ceiling!.name.startsWith('bare GET') ? { name: 'bare GET', result: bareGet } : { name: 'bare POST', result: barePost });
  const cpuText = (r: LoadResult) => (r.cpuMicros ? ` (${cpuParts(r.cpuMicros)} µs/req)` : '');
  const bareRatios = lines.filter((line) => line.ceiling).map((line) => ({ name: line.name, ceiling: bareOf(line).name, ratio: line.result.rps / bareOf(line).result.rps }));
  out.push('ceilings that include the database, and the scenarios against the bare app alone (informational):');
  out.push(`  bare GET + PK read ${fixed(dbGet.rps)} req/s${cpuText(dbGet)}`);
  out.push(`  bare GET + page query ${fixed(dbPage.rps)} req/s${cpuText(dbPage)}`);
  out.push(`  bare POST + durable UPDATE ${fixed(dbWrite.rps)} req/s${cpuText(dbWrite)}`);
  out.push(`  bare POST + durable INSERT ${fixed(dbInsert.rps)} req/s${cpuText(dbInsert)}`);
  for (const r of bareRatios) out.push(`  ${r.name.padEnd(32)} ${pct(r.ratio).padStart(6)} of ${r.ceiling}`);
  out.push('');
  const p99Text = (r: LoadResult) => (r.requests ? `${fixed(r.p99)} ms` : `> ${options.duration * 1000} ms (no request completed)`);
  out.push(`list page p99: ${p99Text(listBig)} at ${options.users} users vs ${p99Text(listSmall)} at ${options.smallUsers} users = ${fixed(listP99Ratio, 2)}x   target <= ${TARGETS.listP99Ratio}x  ${verdict(listP99Ratio <= TARGETS.listP99Ratio)}`);
  out.push(
    `auth overhead${options.authControl ? ' CONTROL (token-auth on both sides)' : ''} (get by id, both gateways at once, ${authRuns.perRound.length} rounds): throughput ${fixed(authRps)} vs ${fixed(noAuthRps)} req/s = ${pct(throughputOverhead)}   target < ${pct(TARGETS.authOverhead)} of get-by-id throughput  ${verdict(throughputOverhead < TARGETS.authOverhead)}`,
    `  by gateway CPU per request: ${fixed(authRuns.cpuPerRequest.a)} µs with token-auth vs ${fixed(authRuns.cpuPerRequest.b)} µs ${options.authControl ? 'with token-auth' : 'stubbed'} = ${pct(authOverhead)} (rounds: ${roundSpread})  ${verdict(authOverhead < TARGETS.authOverhead)}`,
    `  the authenticator alone (one process, cache hit, keep-alive): ${fixed(isolated.authenticatorMicros, 2)} µs vs ${fixed(isolated.stubMicros, 2)} µs for the stub = +${fixed(isolated.addedMicros, 2)} µs per request = ${pct(isolatedShare)} of the stubbed gateway's CPU per get by id`,
  );
  out.push(`audit cost (create): ${fixed(createAudit.rps)} req/s with audit vs ${fixed(createNoAudit.rps)} req/s without = ${pct(auditRatio)}   target >= ${pct(TARGETS.auditRatio)}  ${verdict(auditRatio >= TARGETS.auditRatio)}`);
  out.push(`gateway RSS max: ${fixed(sampler.max)} MB   target < ${TARGETS.rssMb} MB  ${verdict(sampler.max < TARGETS.rssMb)}   (per phase: ${Object.entries(sampler.byPhase).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}); worker process ${fixed(worker.rssMaxMb)} MB`);
  out.push(`database: ${fixed(storage.dataMb + storage.indexMb, 0)} MB of data and indexes at the end (${fixed(storage.dataMb, 0)} + ${fixed(storage.indexMb, 0)}), InnoDB buffer pool ${fixed(storage.bufferPoolMb, 0)} MB${storage.bufferPoolMb < storage.dataMb + storage.indexMb ? '  (smaller than the data: writes and list pages also wait for disk reads)' : ''}`);
  out.push(`seeding: ${options.users + options.smallUsers} users in ${fixed(seedSeconds)} s (${fixed((options.users + options.smallUsers) / seedSeconds, 0)} users/s)`);
  out.push(deprovisioned.line);
  out.push(`where the time goes (server-side query time, median of 5, gateway idle; ${options.users} vs ${options.smallUsers} users):`);
  for (const [name, c] of Object.entries(costs)) out.push(`  ${name.padEnd(46)} ${fixed(c.big, 2).padStart(8)} ms vs ${fixed(c.small, 2).padStart(6)} ms   EXPLAIN: ${c.explainBig}`);
  // The end figure counts the run's own processes (gateway, MariaDB, load generator); only the start
  // figure says whether something else was busy.
  out.push(`machine load average (1 min): ${fixed(loadBefore[0]!, 2)} at start, ${fixed(loadAfter[0]!, 2)} at end (the run's own processes included), on ${cpus().length} cores${loadBefore[0]! > cpus().length / 2 ? '  !! the machine was busy when the run started: figures may be low and noisy' : ''}`);
  out.push(`non-2xx responses: ${totals.non2xx}, connection errors: ${totals.errors}; gateway warn/error log lines: ${gatewayWarnings}, worker: ${worker.warnings}`);
  for (const line of gatewayWarningLines) out.push(`  gateway: ${line}`);
  for (const line of worker.warningLines) out.push(`  worker: ${line}`);
  out.push('');

  const scenarioJson = Object.fromEntries(
    lines.map((line) => {
      const r = ratioOf(line);
      const { rps, p50, p99, non2xx, errors, requests, seconds, statusCodes, cpuMicros } = line.result;
      const cpu = cpuMicros ? { cpuMicrosPerRequest: Object.fromEntries(Object.entries(cpuMicros).map(([k, v]) => [k, Math.round(v)])) } : {};
      return [line.name, { rps: Math.round(rps * 10) / 10, p50, p99, non2xx, errors, requests, seconds: Math.round(seconds * 100) / 100, statusCodes, ...cpu, ...(r ? { ratio: Math.round(r.ratio * 1000) / 1000, target: r.target, pass: r.pass, ceiling: line.ceiling!.name } : {}) }];
    }),
  );
  const json = {
    bench: 'scim',
    options,
    machine: { cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    seed: { users: options.users, smallUsers: options.smallUsers, seconds: seedSeconds },
    database: { dataMb: Math.round(storage.dataMb), indexMb: Math.round(storage.indexMb), bufferPoolMb: Math.round(storage.bufferPoolMb) },
    scenarios: scenarioJson,
    databaseCeilings: {
      'bare GET + PK read': Math.round(dbGet.rps),
      'bare GET + page query': Math.round(dbPage.rps),
      'bare POST + durable UPDATE': Math.round(dbWrite.rps),
      'bare POST + durable INSERT': Math.round(dbInsert.rps),
    },
    bareAppRatios: Object.fromEntries(bareRatios.map((r) => [r.name, Math.round(r.ratio * 1000) / 1000])),
    listP99: { big: listBig.p99, small: listSmall.p99, ratio: Number.isFinite(listP99Ratio) ? Math.round(listP99Ratio * 100) / 100 : null, target: TARGETS.listP99Ratio, pass: listP99Ratio <= TARGETS.listP99Ratio },
    authOverhead: {
      withAuthRps: Math.round(authRps),
      withoutAuthRps: Math.round(noAuthRps),
      runs: { withAuth: withAuth.map((r) => Math.round(r.rps)), withoutAuth: withoutAuth.map((r) => Math.round(r.rps)) },
      cpuMicrosPerRequest: { withAuth: Math.round(authRuns.cpuPerRequest.a * 10) / 10, withoutAuth: Math.round(authRuns.cpuPerRequest.b * 10) / 10 },
      method: 'concurrent',
      control: options.authControl,
      perRoundOverhead: rounds.map((o) => Math.round(o * 1000) / 1000),
      perRoundStandardError: Math.round(roundSe * 1000) / 1000,
      throughputOverhead: Math.round(throughputOverhead * 1000) / 1000,
      overhead: Math.round(authOverhead * 1000) / 1000,
      isolated: { authenticatorMicros: Math.round(isolated.authenticatorMicros * 100) / 100, stubMicros: Math.round(isolated.stubMicros * 100) / 100, share: Math.round(isolatedShare * 1000) / 1000 },
      target: TARGETS.authOverhead,
      // The issue's measure: get-by-id throughput. CPU per request is judged on its own line.
      pass: throughputOverhead < TARGETS.authOverhead,
      cpuPass: authOverhead < TARGETS.authOverhead,
    },
    auditCost: { withAuditRps: Math.round(createAudit.rps), withoutAuditRps: Math.round(createNoAudit.rps), ratio: Math.round(auditRatio * 1000) / 1000, target: TARGETS.auditRatio, pass: auditRatio >= TARGETS.auditRatio },
    rss: { maxMb: Math.round(sampler.max), byPhaseMb: Object.fromEntries(Object.entries(sampler.byPhase).map(([k, v]) => [k, Math.round(v)])), target: TARGETS.rssMb, pass: sampler.max < TARGETS.rssMb, workerMaxMb: Math.round(worker.rssMaxMb) },
    deprovision: deprovisioned.json,
    non2xx: totals.non2xx,
    errors: totals.errors,
    gatewayWarnings,
    workerWarnings: worker.warnings,
    queryCostsMs: costs,
    loadAverage: { start: loadBefore[0], end: loadAfter[0] },
  };
  return { text: out.join('\n') + '\n', json };
}
