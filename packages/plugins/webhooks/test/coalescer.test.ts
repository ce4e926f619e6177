import { describe, expect, it } from 'vitest';
import { Coalescer } from '../src/coalescer.ts';

/** A run that waits for `release()`, recording the inputs of every run. */
function gatedRun() {
  const runs: number[][] = [];
  const gates: Array<() => void> = [];
  const run = async (inputs: number[]) => {
    runs.push(inputs);
    await new Promise<void>((resolve) => gates.push(resolve));
    if (inputs.includes(-1)) throw new Error('bad input');
    return inputs.map((i) => i * 10);
  };
  const tick = () => new Promise((r) => setImmediate(r));
  return { runs, run, gates, release: async () => (gates.shift()!(), tick()), tick };
}

describe('Coalescer (group commit for concurrent jobs)', () => {
  it('runs a lone input at once, and batches what arrives while a run is in flight', async () => {
    const g = gatedRun();
    const c = new Coalescer(g.run, 1, 100);
    const first = c.submit(1);
    await g.tick();
    expect(g.runs).toEqual([[1]]);
    const later = [c.submit(2), c.submit(3), c.submit(4)];
    await g.tick();
    expect(g.runs).toEqual([[1]]); // waiting for the run in flight
    await g.release();
    expect(await first).toBe(10);
    expect(g.runs).toEqual([[1], [2, 3, 4]]);
    await g.release();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
  });

  it.each([
    // Submitted in one go: the first input(s) start alone, at once; the rest queue in batches.
    { maxInFlight: 1, maxBatch: 2, submitted: [1, 2, 3, 4, 5], runs: [[1], [2, 3], [4, 5]] },
    { maxInFlight: 2, maxBatch: 2, submitted: [1, 2, 3, 4, 5], runs: [[1], [2], [3, 4], [5]] },
    { maxInFlight: 3, maxBatch: 100, submitted: [1, 2, 3], runs: [[1], [2], [3]] },
    { maxInFlight: 1, maxBatch: 100, submitted: [1, 2, 3, 4], runs: [[1], [2, 3, 4]] },
  ])('keeps to $maxInFlight run(s) in flight of at most $maxBatch inputs: $runs', async ({ maxInFlight, maxBatch, submitted, runs }) => {
    const g = gatedRun();
    const c = new Coalescer(g.run, maxInFlight, maxBatch);
    let done = false;
    const all = Promise.all(submitted.map((i) => c.submit(i))).finally(() => (done = true));
    await g.tick();
    expect(g.runs).toEqual(runs.slice(0, maxInFlight));
    while (!done) {
      expect(g.gates.length).toBeLessThanOrEqual(maxInFlight);
      if (g.gates.length) await g.release();
      else await g.tick();
    }
    expect(await all).toEqual(submitted.map((i) => i * 10));
    expect(g.runs).toEqual(runs);
  });

  it('gives a failed run’s error to each of its callers only; the next run goes on', async () => {
    const g = gatedRun();
    const c = new Coalescer(g.run, 1, 100);
    const first = c.submit(1);
    await g.tick();
    const bad = [c.submit(2), c.submit(-1)].map((p) => p.then(String, (err: Error) => err.message));
    await g.release();
    const after = c.submit(5);
    await g.release(); // the [2, -1] run throws
    expect(await Promise.all(bad)).toEqual(['bad input', 'bad input']);
    await g.release();
    expect(await first).toBe(10);
    expect(await after).toBe(50);
    expect(g.runs).toEqual([[1], [2, -1], [5]]);
  });
});
