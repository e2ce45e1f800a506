import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A child process started by the harness; its output is kept for error messages. */
export class ManagedProcess {
  private output = '';
  private exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-16_384);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  }

  /** Starts `command args` (with `env` added to this process's environment); fails if it cannot be spawned. */
  static start(
    name: string,
    command: string,
    args: readonly string[],
    cwd?: string,
    env?: Readonly<Record<string, string>>,
  ): ManagedProcess {
    const child = spawn(command, args, {
      cwd,
      env: env ? { ...process.env, ...env } : process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ManagedProcess(name, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last 16 KiB the process printed. */
  get log(): string {
    return this.output;
  }

  /**
   * Polls `ready` until it returns true, the process exits, or `timeoutMs` passes (then throws with the
   * process's output).
   */
  async waitUntil(ready: () => Promise<boolean>, timeoutMs = 20_000, what = 'ready'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited before it was ${what}:\n${this.output}`);
      if (await ready().catch(() => false)) return;
      await sleep(50);
    }
    throw new Error(`${this.name} was not ${what} after ${timeoutMs} ms:\n${this.output}`);
  }

  /** Stops the process (SIGTERM, then SIGKILL after `graceMs`) and waits for it to be reaped. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills the process at once (SIGKILL), as a crash would, and waits for it to be reaped. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** A fresh temporary directory and a function that removes it. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `substrate-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
