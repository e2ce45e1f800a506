import { join } from 'node:path';
import { writeActorIdentity, writeBundle, type DurableMount } from './bundle';
import { InvalidStateError, WorkerBusyError } from './errors';
import { type NetnsManager, type SandboxNetwork } from './netns';
import { waitUntilReady, type Readiness } from './readyz';
import { RunscDriver, resolveProcSysNetWorkaround, type CheckpointImage, type RunscTimeouts } from './runsc';

/** The actor's process as the worker runs it. */
export interface ActorProcess {
  readonly args: readonly string[];
  readonly env?: readonly string[];
  readonly cwd?: string;
  readonly rootfs: string;
  readonly readonlyRootfs: boolean;
  readonly durableMounts?: readonly DurableMount[];
  /** HTTP readiness probe on the sandbox address; without it run/restore return once runsc does. */
  readonly readiness?: { readonly port: number; readonly path?: string; readonly timeoutMs?: number };
}

export interface WorkerSandboxOptions {
  readonly worker: string;
  /** Directory of this worker's runsc state, bundle, identity file and logs. */
  readonly workDir: string;
  readonly netns: NetnsManager;
  /**
   * Give the worker its own namespace with the endpoint of this index (see `endpointAddresses`), so that
   * several workers share one host; without it the sandbox is reached directly at its inner address.
   */
  readonly endpointIndex?: number;
  readonly runsc: string;
  readonly unshare: string;
  readonly nsenter: string;
  readonly procSysNetWorkaround: 'auto' | 'on' | 'off';
  readonly timeouts?: Partial<RunscTimeouts>;
}

/** What a run or restore reports. */
export interface SandboxStarted {
  /** Time from the start of the operation until runsc returned. */
  readonly startedMs: number;
  /** Readiness of the probe, when the process declares one. */
  readonly readiness?: Readiness;
}

/** The container id inside each worker's own runsc state root: one sandbox per worker. */
const CONTAINER_ID = 'actor';

type Phase = 'idle' | 'running' | 'closed';

/**
 * One worker's sandbox: its network namespace, its runsc state root and at most one running actor.
 * Operations are exclusive: a second one while another is in flight fails at once with
 * {@link WorkerBusyError} (`BUSY`). A run or restore whose readiness probe fails leaves no sandbox
 * behind; a checkpoint stops and deletes the sandbox, freeing the worker.
 */
export class WorkerSandbox {
  private phase: Phase = 'idle';
  private inFlight: string | undefined;

  private constructor(
    private readonly options: WorkerSandboxOptions,
    readonly network: SandboxNetwork,
    private readonly driver: RunscDriver,
  ) {}

  /** Creates the worker's network namespace and decides on the /proc/sys/net workaround. */
  static async open(options: WorkerSandboxOptions): Promise<WorkerSandbox> {
    const network = await options.netns.create(options.worker, { endpointIndex: options.endpointIndex });
    try {
      const workaround = await resolveProcSysNetWorkaround(
        options.procSysNetWorkaround,
        options.nsenter,
        network.namespacePath,
      );
      const driver = new RunscDriver({
        runsc: options.runsc,
        stateDir: join(options.workDir, 'runsc-state'),
        procSysNetWorkaround: workaround,
        unshare: options.unshare,
        timeouts: options.timeouts,
      });
      return new WorkerSandbox(options, network, driver);
    } catch (error) {
      await options.netns.remove(options.worker).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Where clients reach the actor: the worker's endpoint when it has one (forwarded to the sandbox),
   * otherwise the sandbox's own address, one hop over the veth from ateom's namespace.
   */
  get address(): string {
    return this.network.forward?.endpoint ?? this.network.layout.sandboxAddress;
  }

  /** Where the sandboxed process's stdout and stderr go. */
  get logFile(): string {
    return join(this.options.workDir, 'actor.log');
  }

  /** Cold boot of `process` as actor `actorId`, then its readiness probe. */
  run(actorId: string, process: ActorProcess): Promise<SandboxStarted> {
    return this.exclusive('run', ['idle'], async () => {
      const bundle = await this.prepare(actorId, process);
      return this.started(process, () => this.driver.run(CONTAINER_ID, bundle, this.logFile));
    });
  }

  /** Restores `imageDir` as actor `actorId` (identity and network set again), then probes readiness. */
  restore(actorId: string, process: ActorProcess, imageDir: string): Promise<SandboxStarted> {
    return this.exclusive('restore', ['idle'], async () => {
      const bundle = await this.prepare(actorId, process);
      return this.started(process, () => this.driver.restore(CONTAINER_ID, bundle, imageDir, this.logFile));
    });
  }

  /** Checkpoints the running actor into `imageDir`, then deletes the sandbox: the worker is free again. */
  checkpoint(imageDir: string): Promise<CheckpointImage> {
    return this.exclusive('checkpoint', ['running'], async () => {
      const image = await this.driver.checkpoint(CONTAINER_ID, imageDir);
      await this.driver.delete(CONTAINER_ID);
      this.phase = 'idle';
      return image;
    });
  }

  /** Deletes any sandbox and removes the network namespace. Idempotent. */
  async close(): Promise<void> {
    if (this.inFlight !== undefined) throw new WorkerBusyError(this.options.worker, 'close', this.inFlight);
    if (this.phase === 'closed') return;
    this.inFlight = 'close';
    try {
      await this.driver.delete(CONTAINER_ID);
      await this.options.netns.remove(this.options.worker);
      this.phase = 'closed';
    } finally {
      this.inFlight = undefined;
    }
  }

  private async prepare(actorId: string, process: ActorProcess): Promise<string> {
    const actorIdFile = await writeActorIdentity(join(this.options.workDir, 'ate'), actorId);
    const bundle = join(this.options.workDir, 'bundle');
    await writeBundle(bundle, {
      args: process.args,
      env: process.env,
      cwd: process.cwd,
      rootfs: process.rootfs,
      readonlyRootfs: process.readonlyRootfs,
      durableMounts: process.durableMounts,
      networkNamespacePath: this.network.namespacePath,
      actorIdFile,
    });
    await this.options.netns.prepare(this.network);
    return bundle;
  }

  private async started(process: ActorProcess, start: () => Promise<void>): Promise<SandboxStarted> {
    const began = performance.now();
    try {
      await start();
      this.phase = 'running';
      const startedMs = performance.now() - began;
      if (process.readiness === undefined) return { startedMs };
      const readiness = await waitUntilReady({ host: this.address, ...process.readiness });
      return { startedMs, readiness };
    } catch (error) {
      await this.driver.delete(CONTAINER_ID).catch(() => undefined);
      this.phase = 'idle';
      throw error;
    }
  }

  private async exclusive<T>(
    operation: string,
    allowed: readonly Phase[],
    body: () => Promise<T>,
  ): Promise<T> {
    if (this.inFlight !== undefined) throw new WorkerBusyError(this.options.worker, operation, this.inFlight);
    if (!allowed.includes(this.phase))
      throw new InvalidStateError(this.options.worker, operation, this.phase);
    this.inFlight = operation;
    try {
      return await body();
    } finally {
      this.inFlight = undefined;
    }
  }
}
