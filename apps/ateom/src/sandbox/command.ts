import { spawn } from 'node:child_process';
import { CommandFailedError, CommandTimeoutError } from './errors';

/** How to run one helper command (`ip`, `runsc`, `nsenter`). */
export interface CommandOptions {
  /** Deadline for the whole command; past it the process is killed with SIGKILL and reaped. */
  readonly timeoutMs: number;
  /**
   * A file descriptor that receives the command's stdout and stderr instead of pipes. Needed for
   * `runsc run --detach` and `restore --detach`: the sandbox inherits these descriptors, so pipes would
   * stay open for the sandbox's whole life.
   */
  readonly outputFd?: number;
  /** A separate descriptor for stderr; `outputFd` receives both streams when this is absent. */
  readonly errorFd?: number;
}

/** What a finished command printed (empty when `outputFd` was given). */
export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

const KEEP_BYTES = 16_384;
const EXIT_GRACE_MS = 200;

/**
 * Runs `file args` without a shell, resolves when it exits with status 0, and otherwise rejects with
 * {@link CommandFailedError} or {@link CommandTimeoutError}. The child is always waited for (reaped),
 * including after the deadline kill. A descendant that keeps an inherited descriptor open cannot hold
 * the call past the command's own exit.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: CommandOptions,
): Promise<CommandResult> {
  const command = [file, ...args];
  return new Promise((resolve, reject) => {
    const output = options.outputFd;
    const child = spawn(file, args, {
      stdio:
        output === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', output, options.errorFd ?? output],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString('utf8')).slice(-KEEP_BYTES);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-KEEP_BYTES);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    // `close` (every stdio stream drained) normally settles the call; if a descendant keeps an inherited
    // pipe open after the command itself exited, settle shortly after `exit` instead.
    let settled = false;
    const settle = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Release our ends of the pipes even if a descendant still holds the other ends.
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (timedOut) reject(new CommandTimeoutError(command, options.timeoutMs));
      else if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandFailedError(command, code, signal, stderr || stdout));
    };
    child.once('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new CommandFailedError(command, null, null, error.message, { cause: error }));
    });
    child.once('exit', (code, signal) => {
      if (output !== undefined) settle(code, signal);
      else setTimeout(() => settle(code, signal), EXIT_GRACE_MS).unref();
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => settle(code, signal));
  });
}
