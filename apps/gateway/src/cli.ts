import { runCli } from './cli-program.ts';

// The process entry of `doorman` (bin/doorman.mjs, `npm run doorman -- …`, dist/cli.mjs).
runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  // Exit once stdout is flushed: a pipe is written asynchronously, and exiting at once cut long
  // outputs (the OpenAPI document) at 64 KiB.
  (code) => process.stdout.write('', () => process.exit(code)),
  (err) => {
    process.stderr.write(`doorman: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
