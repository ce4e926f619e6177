import { runCli } from './cli-program.ts';

// The process entry of `doorman` (bin/doorman.mjs, `npm run doorman -- …`, dist/cli.mjs).
runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`doorman: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
