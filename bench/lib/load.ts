import autocannon, { type Instance, type Result } from 'autocannon';
import { cpuSeconds } from './children.ts';

/** One request of a scenario: built per request from a running counter (unique names, distinct users). */
export interface ScenarioRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  path: string;
  body?: unknown;
}

export interface LoadSpec {
  baseUrl: string;
  headers: Record<string, string>;
  connections: number;
  /** Measured seconds (after the warm-up). */
  duration: number;
  warmup: number;
  next: (n: number) => ScenarioRequest;
  /** Upper bound on requests (warm-up + measured), e.g. the number of distinct users left. */
  maxRequests?: number;
  /** Processes whose CPU time per request the measured run reports, by name (e.g. gateway, database). */
  cpuOf?: Record<string, number>;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  statusCodes: Record<string, number>;
  /** The first non-2xx answer, to report what went wrong. */
  firstError: string | null;
  /**
   * CPU microseconds per request of the measured run (not the warm-up): each process of
   * `spec.cpuOf`, and `load generator` (this process, autocannon).
   */
  cpuMicros?: Record<string, number>;
}

const running = new Set<Instance>();

/** Stops the load generators now (SIGINT). */
export function stopLoad() {
  for (const instance of running) instance.stop();
}

function run(spec: LoadSpec, seconds: number, counter: { n: number }, maxRequests: number | undefined, onError: (status: number, body: string, req: string) => void) {
  return new Promise<{ result: Result; seconds: number }>((resolve, reject) => {
    const started = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: spec.baseUrl,
        connections: spec.connections,
        duration: seconds,
        timeout: 30,
        ...(maxRequests !== undefined ? { maxOverallRequests: Math.max(maxRequests, spec.connections) } : {}),
        requests: [
          {
            headers: spec.headers,
            setupRequest: (request) => {
              const next = spec.next(counter.n++);
              return {
                ...request,
                method: next.method,
                path: next.path,
                body: next.body === undefined ? undefined : JSON.stringify(next.body),
              };
            },
            onResponse: (status, body, _ctx) => {
              if (status < 200 || status > 299) onError(status, body, '');
            },
          },
        ],
      },
      (err, result) => {
        running.delete(instance);
        if (err) reject(err);
        else resolve({ result, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
      },
    );
    running.add(instance);
  });
}

/** Warm-up (discarded), then the measured run; the request counter carries on across both. */
export async function measure(spec: LoadSpec): Promise<LoadResult> {
  const counter = { n: 0 };
  let firstError: string | null = null;
  const onError = (status: number, body: string) => {
    firstError ??= `${status} ${body.slice(0, 300)}`;
  };
  if (spec.warmup > 0) {
    await run(spec, spec.warmup, counter, spec.maxRequests === undefined ? undefined : Math.floor(spec.maxRequests * (spec.warmup / (spec.warmup + spec.duration))), () => undefined);
  }
  const left = spec.maxRequests === undefined ? undefined : spec.maxRequests - counter.n;
  if (left !== undefined && left < spec.connections) throw new Error(`not enough distinct targets left for a measured run (${left})`);
  const cpuBefore = cpuSnapshot(spec.cpuOf);
  const { result, seconds } = await run(spec, spec.duration, counter, left, onError);
  const cpuAfter = cpuSnapshot(spec.cpuOf);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, Number(s.count)]));
  const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    requests,
    seconds,
    rps: requests / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
    firstError,
    cpuMicros: requests ? cpuPerRequest(cpuBefore, cpuAfter, requests) : undefined,
  };
}

/** CPU time so far of the named processes and of this one (the load generator). */
export type CpuSnapshot = { processes: Record<string, number | null>; self: NodeJS.CpuUsage };
export function cpuSnapshot(pids: Record<string, number> = {}): CpuSnapshot {
  return { processes: Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)])), self: process.cpuUsage() };
}
/** CPU microseconds per unit of work (a request, a deactivation) between two snapshots, per process. */
export function cpuPerRequest(before: CpuSnapshot, after: CpuSnapshot, units: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, was] of Object.entries(before.processes)) {
    const now = after.processes[name];
    if (was !== null && now !== null && now !== undefined) out[name] = (1e6 * (now - was)) / units;
  }
  out['load generator'] = (after.self.user + after.self.system - before.self.user - before.self.system) / units;
  return out;
}
