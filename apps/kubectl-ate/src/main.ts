import { runCli } from './cli';

const { exitCode, stdout, stderr } = runCli(
  process.argv.slice(2),
  process.env['npm_package_version'] ?? '0.0.0',
);
process.stdout.write(stdout);
process.stderr.write(stderr);
process.exitCode = exitCode;
