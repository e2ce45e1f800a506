import { join } from 'node:path';
import { ManagedProcess } from './process';
import { REPO_ROOT } from './tools';

/** Options of {@link ServiceProcess.start}. */
export interface ServiceProcessOptions {
  /** Name for logs and errors, e.g. `ateapi`. */
  readonly name: string;
  /** The TypeScript entry point, relative to the repository root, e.g. `apps/ateapi/src/main.ts`. */
  readonly entry: string;
  /** Settings added to the environment. */
  readonly env: Readonly<Record<string, string>>;
  /** A URL that answers 2xx once the service is up (e.g. its /healthz). */
  readonly healthUrl: string;
  /** How long to wait for health (default 60 s). */
  readonly timeoutMs?: number;
}

/**
 * One of our services as its own process, the way it runs for real: `node -r
 * tools/scripts/swc-register.js <entry>` (TypeScript compiled on load with decorator metadata), waited
 * for until its health URL answers. Tests SIGKILL it to simulate crashes.
 */
export class ServiceProcess {
  private constructor(private readonly child: ManagedProcess) {}

  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const child = ManagedProcess.start(
      options.name,
      process.execPath,
      [
        '--enable-source-maps',
        '-r',
        join(REPO_ROOT, 'tools/scripts/swc-register.js'),
        join(REPO_ROOT, options.entry),
      ],
      REPO_ROOT,
      options.env,
    );
    try {
      await child.waitUntil(
        async () => (await fetch(options.healthUrl)).ok,
        options.timeoutMs ?? 60_000,
        'healthy',
      );
    } catch (error) {
      await child.kill();
      throw error;
    }
    return new ServiceProcess(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.running;
  }

  /** The last 16 KiB it printed. */
  get log(): string {
    return this.child.log;
  }

  /** SIGKILL: a crash in the middle of whatever it was doing. */
  kill(): Promise<void> {
    return this.child.kill();
  }

  /** SIGTERM, then SIGKILL after `graceMs`: a graceful shutdown. */
  stop(graceMs = 30_000): Promise<void> {
    return this.child.stop(graceMs);
  }
}
