/**
 * Group commit for concurrent jobs (docs/webhooks.md, "Throughput"): `submit` hands one caller's input
 * to `run`; while `maxInFlight` runs are busy, later inputs queue and go together in the next run
 * (at most `maxBatch` each). A lone caller is never delayed: with nothing in flight its run starts at
 * once. `run` answers one output per input, in order; when it throws, every caller of that run gets
 * the error.
 */
export class Coalescer<I, O> {
  private queue: Array<{ input: I; resolve: (o: O) => void; reject: (err: unknown) => void }> = [];
  private inFlight = 0;

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly maxInFlight = 1,
    private readonly maxBatch = 100,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      // Started on a later tick, so the caller that triggered it is never run synchronously inside submit.
      Promise.resolve()
        .then(() => this.run(batch.map((b) => b.input)))
        .then(
          (outputs) => batch.forEach((b, i) => b.resolve(outputs[i]!)),
          (err: unknown) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          this.inFlight--;
          this.drain();
        });
    }
  }
}
