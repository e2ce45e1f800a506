import { USAGE, runCli } from './cli';

describe('kubectl-ate command line', () => {
  it('prints usage for no command and for --help', () => {
    expect(runCli([], '1.2.3')).toEqual({ exitCode: 0, stdout: USAGE, stderr: '' });
    expect(runCli(['--help'], '1.2.3').stdout).toContain('Usage:');
  });

  it('prints its version', () => {
    expect(runCli(['version'], '1.2.3').stdout).toBe('kubectl-ate 1.2.3\n');
  });

  it('rejects an unknown command with exit code 1 and the usage on stderr', () => {
    const result = runCli(['frobnicate', 'x'], '1.2.3');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^error: unknown command "frobnicate x"/);
    expect(result.stdout).toBe('');
  });
});
