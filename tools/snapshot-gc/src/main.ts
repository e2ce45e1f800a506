// Entry point of `npm run snapshot-gc -- <location-uri> [options]` (see cli.ts).
import { run } from './cli';

run(
  process.argv.slice(2),
  (line) => process.stdout.write(`${line}\n`),
  (line) => process.stderr.write(`${line}\n`),
).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`snapshot-gc: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
