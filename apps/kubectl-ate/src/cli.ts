/** The kubectl plugin's command line: parsing and dispatch. Commands land with the issues that need them. */
export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const USAGE = `kubectl ate: manage Substrate actors, workers and atespaces

Usage:
  kubectl ate <command> [flags]

Commands:
  version     print the plugin version

Flags:
  -h, --help  show this help
`;

/** Runs the CLI with `argv` (without the program name) and returns what it prints. */
export function runCli(argv: readonly string[], version: string): CliResult {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    return { exitCode: 0, stdout: USAGE, stderr: '' };
  }
  if (command === 'version' && rest.length === 0) {
    return { exitCode: 0, stdout: `kubectl-ate ${version}\n`, stderr: '' };
  }
  return { exitCode: 1, stdout: '', stderr: `error: unknown command "${argv.join(' ')}"\n\n${USAGE}` };
}
