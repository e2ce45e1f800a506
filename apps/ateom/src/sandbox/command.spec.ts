import { runCommand } from './command';
import { CommandFailedError, CommandTimeoutError } from './errors';

describe('runCommand', () => {
  it('returns what the command printed', async () => {
    await expect(runCommand('sh', ['-c', 'echo out; echo err >&2'], { timeoutMs: 5_000 })).resolves.toEqual({
      stdout: 'out\n',
      stderr: 'err\n',
    });
  });

  it('fails with the exit code and stderr', async () => {
    const error = await runCommand('sh', ['-c', 'echo broken >&2; exit 3'], { timeoutMs: 5_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommandFailedError);
    expect(error).toMatchObject({ code: 'COMMAND_FAILED', exitCode: 3, stderr: 'broken\n' });
  });

  it('fails when the program does not exist', async () => {
    await expect(runCommand('/nonexistent/program', [], { timeoutMs: 5_000 })).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
    });
  });

  it('kills and reaps a command that outlives its deadline', async () => {
    const started = Date.now();
    const error = await runCommand('sleep', ['30'], { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandTimeoutError);
    expect(error).toMatchObject({ code: 'COMMAND_TIMEOUT', timeoutMs: 100 });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('is not held by a descendant that keeps the output pipe open', async () => {
    const started = Date.now();
    await runCommand('sh', ['-c', 'sleep 3 & echo started'], { timeoutMs: 10_000 });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
