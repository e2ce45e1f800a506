import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const COLORS = [36, 35, 33, 32, 34, 31, 96, 95, 93, 92];

/** One component of the local substrate: a child process whose output is printed with a `[name]` prefix. */
export class Component {
  private readonly exitPromise: Promise<number | null>;
  private stopping = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    /** Leads its own process group: a forced stop kills the group (a reaper and what runs under it). */
    private readonly ownGroup: boolean,
    onUnexpectedExit: (name: string, code: number | null) => void,
  ) {
    this.exitPromise = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.stopping) onUnexpectedExit(name, code ?? (signal ? 128 : null));
        resolve(code);
      }),
    );
  }

  static start(
    name: string,
    command: string,
    args: readonly string[],
    env: Readonly<Record<string, string>>,
    colorIndex: number,
    out: NodeJS.WritableStream,
    onUnexpectedExit: (name: string, code: number | null) => void,
    ownGroup = false,
  ): Component {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: ownGroup,
    });
    const color = COLORS[colorIndex % COLORS.length] ?? 36;
    const prefix = `\u001b[${color}m[${name.padEnd(8)}]\u001b[0m `;
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream?.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString('utf8')).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) out.write(`${prefix}${line}\n`);
      });
    }
    return new Component(name, child, ownGroup, onUnexpectedExit);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM (the component cleans up: sandboxes, namespaces), then SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    this.stopping = true;
    if (!this.running || this.child.pid === undefined) return;
    process.kill(this.child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      const pid = this.child.pid;
      if (this.running && pid !== undefined) process.kill(this.ownGroup ? -pid : pid, 'SIGKILL');
    }, graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }
}

/** `node -r tools/scripts/swc-register.js <entry>`: one of our services run from source. */
export function serviceCommand(repoRoot: string, entry: string): [string, string[]] {
  return [
    process.execPath,
    ['--enable-source-maps', '-r', join(repoRoot, 'tools/scripts/swc-register.js'), join(repoRoot, entry)],
  ];
}

/** Polls `check` every 100 ms until it is true, `component` exits, or `timeoutMs` passes. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  component: Component | undefined,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (component && !component.running) throw new Error(`${component.name} exited before ${what}`);
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export function tcpAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function unixAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function httpOk(url: string): Promise<boolean> {
  return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
}
