import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from '../process';
import type { FakeWorkerRegistration } from './proto';
import {
  FAKE_ATELET_READY_PREFIX,
  type FakeAteletCall,
  type FakeAteletFault,
  type FakeAteletMethod,
  type FakeAteletOptions,
  type FakeAteletReady,
  type FakeAteletRegistrationStatus,
  type FakeAteletServerConfig,
  type FakeAteletStats,
  type FakeAteletViolation,
  type FakeWorkerState,
} from './types';

const CONTROL_TIMEOUT_MS = 10_000;
const HOST = '127.0.0.1';

/** A failed request to a fake atelet's control endpoint. */
export class FakeAteletControlError extends Error {
  readonly code = 'FAKE_ATELET_CONTROL';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FakeAteletControlError';
  }
}

/**
 * Controls a running fake atelet through its loopback HTTP control endpoint: inject faults, change the
 * latency, read the call log, the per-worker state and the registration loop. Usable from any process
 * (e.g. a Jest worker when a global setup started the atelet): `new FakeAteletControl(controlUrl)`.
 */
export class FakeAteletControl {
  constructor(
    /** `http://127.0.0.1:<port>` of the control endpoint. */
    readonly controlUrl: string,
  ) {}

  /** Every call received so far (at most `callLogLimit`, newest last); optionally one method's. */
  async calls(method?: FakeAteletMethod): Promise<FakeAteletCall[]> {
    const { calls } = await this.request<{ calls: FakeAteletCall[] }>('GET', '/calls');
    return method === undefined ? calls : calls.filter((call) => call.method === method);
  }

  /** What each worker that was ever called holds now, sorted by uid. */
  async workers(): Promise<FakeWorkerState[]> {
    return (await this.request<{ workers: FakeWorkerState[] }>('GET', '/workers')).workers;
  }

  /** Requests that named another actor than the one their worker held (empty when all is well). */
  async violations(): Promise<FakeAteletViolation[]> {
    return (await this.request<{ violations: FakeAteletViolation[] }>('GET', '/violations')).violations;
  }

  /** Answered calls per method and gRPC code name, e.g. `{ run: { OK: 3, UNAVAILABLE: 1 }, … }`. */
  async stats(): Promise<FakeAteletStats> {
    return (await this.request<{ stats: FakeAteletStats }>('GET', '/stats')).stats;
  }

  /** Adds a fault: the next matching calls are delayed and/or fail; see {@link FakeAteletFault}. */
  async setFault(fault: FakeAteletFault): Promise<void> {
    await this.request('POST', '/faults', fault);
  }

  /** Removes every pending fault. */
  async clearFaults(): Promise<void> {
    await this.request('DELETE', '/faults');
  }

  /** Sets the latency of successful calls, uniform in [minMs, maxMs], for one method or all. */
  async setLatency(minMs: number, maxMs: number, method?: FakeAteletMethod): Promise<void> {
    await this.request('POST', '/latency', { minMs, maxMs, method });
  }

  /** Forgets the actor a worker holds (all workers without `uid`), as if the worker had restarted. */
  async clearWorkers(uid?: string): Promise<void> {
    await this.request('POST', '/workers/clear', { uid });
  }

  /** Clears calls, stats, faults, violations, worker state and latency overrides. */
  async reset(): Promise<void> {
    await this.request('POST', '/reset');
  }

  /** The registration loop's state. */
  async registration(): Promise<FakeAteletRegistrationStatus> {
    return this.request<FakeAteletRegistrationStatus>('GET', '/registration');
  }

  /**
   * Changes the workers reported to ateapi (the next report carries the new set, so ateapi removes the
   * missing ones) and/or pauses or resumes the periodic reports (a paused atelet lets the leases run out).
   */
  async setRegistration(change: {
    workers?: readonly FakeWorkerRegistration[];
    paused?: boolean;
  }): Promise<void> {
    await this.request('POST', '/registration', change);
  }

  /** Reports the workers once, now, and returns the outcome (`lastError` says why it failed). */
  async reportNow(): Promise<FakeAteletRegistrationStatus> {
    return this.request<FakeAteletRegistrationStatus>('POST', '/registration/report');
  }

  private async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.controlUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
      });
    } catch (error) {
      throw new FakeAteletControlError(`fake atelet ${this.controlUrl} unreachable: ${String(error)}`, {
        cause: error,
      });
    }
    const text = await response.text();
    if (!response.ok) {
      throw new FakeAteletControlError(`fake atelet ${method} ${path}: HTTP ${response.status} ${text}`);
    }
    return JSON.parse(text) as T;
  }
}

/** A fake atelet process started by {@link startFakeAtelet}. */
export class FakeAtelet extends FakeAteletControl {
  private constructor(
    /** `127.0.0.1:<port>`: where it serves `atelet.AteomHerder` (the worker's atelet endpoint). */
    readonly endpoint: string,
    /** Its gRPC port. */
    readonly port: number,
    controlUrl: string,
    private readonly child: ManagedProcess,
  ) {
    super(controlUrl);
  }

  /** @internal */
  static async start(options: FakeAteletOptions): Promise<FakeAtelet> {
    const config: FakeAteletServerConfig = { ...options, host: HOST };
    const child = spawnServer(
      `fake-atelet${options.port === undefined ? '' : `:${options.port}`}`,
      JSON.stringify(config),
    );
    let ready: FakeAteletReady | undefined;
    try {
      await child.waitUntil(
        async () => {
          ready = parseReady(child.log);
          return ready !== undefined;
        },
        60_000,
        'serving',
      );
    } catch (error) {
      await child.kill();
      throw error;
    }
    if (ready === undefined) throw new Error('unreachable: fake atelet ready without ports');
    return new FakeAtelet(
      `${HOST}:${ready.grpcPort}`,
      ready.grpcPort,
      `http://${HOST}:${ready.controlPort}`,
      child,
    );
  }

  /** The process id (for tests that want to signal it themselves). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.running;
  }

  /** Whatever the process printed (for failure messages). */
  get log(): string {
    return this.child.log;
  }

  /** Stops the process gracefully (in-flight calls finish) and waits until it is reaped. */
  async stop(): Promise<void> {
    await this.child.stop();
  }

  /** Kills the process at once (SIGKILL), as a crashed node agent, and waits until it is reaped. */
  async kill(): Promise<void> {
    await this.child.kill();
  }
}

/**
 * Starts a fake atelet: a separate Node process serving `atelet.AteomHerder` on `127.0.0.1:<free port>`
 * (Run / Restore / Checkpoint answer OK after 0–1 ms), tracking which actor each worker holds, with fault
 * injection and a call log through {@link FakeAteletControl}, and optionally registering fake workers
 * with ateapi. Stop it with `stop()` or `kill()`.
 *
 * @example
 * const atelet = await startFakeAtelet({ workerUids: ['w-0', 'w-1'] });
 * await atelet.setFault({ method: 'restore', actor: 'demo/alpha', code: status.UNAVAILABLE, message: 'node down' });
 * // … drive ateapi against atelet.endpoint …
 * expect(await atelet.violations()).toEqual([]);
 * await atelet.stop();
 */
export function startFakeAtelet(options: FakeAteletOptions = {}): Promise<FakeAtelet> {
  return FakeAtelet.start(options);
}

/** The directory of libs/testing, whose tsconfig.json compiles the server script under tsx. */
const PROJECT_DIR = join(__dirname, '../../..');

/**
 * Starts the server script with node: the compiled JavaScript when present, else the TypeScript through
 * tsx. tsx takes its tsconfig from `TSX_TSCONFIG_PATH`, which a parent started by tsx may have set to a
 * relative path that means nothing in the child's directory; the child gets this project's tsconfig
 * instead. The variable is set only for the synchronous spawn, which copies the environment.
 */
function spawnServer(name: string, config: string): ManagedProcess {
  const compiled = join(__dirname, 'fake-atelet.main.js');
  if (existsSync(compiled))
    return ManagedProcess.start(name, process.execPath, [compiled, config], PROJECT_DIR);
  const previous = process.env['TSX_TSCONFIG_PATH'];
  process.env['TSX_TSCONFIG_PATH'] = join(PROJECT_DIR, 'tsconfig.json');
  try {
    return ManagedProcess.start(
      name,
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'fake-atelet.main.ts'), config],
      PROJECT_DIR,
    );
  } finally {
    if (previous === undefined) delete process.env['TSX_TSCONFIG_PATH'];
    else process.env['TSX_TSCONFIG_PATH'] = previous;
  }
}

function parseReady(log: string): FakeAteletReady | undefined {
  const match = new RegExp(`^${FAKE_ATELET_READY_PREFIX}(\\{.*\\})\n`, 'm').exec(log);
  return match?.[1] === undefined ? undefined : (JSON.parse(match[1]) as FakeAteletReady);
}
