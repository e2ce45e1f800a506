import { join } from 'node:path';
import { writeActorIdentity, writeBundle, type DurableMount } from './bundle';
import { InvalidStateError, WorkerBusyError } from './errors';
import { type NetnsManager, type SandboxNetwork } from './netns';
import { waitUntilReady, type Readiness } from './readyz';
import {
  RunscDriver,
  resolveProcSysNetWorkaround,
  type CheckpointImage,
  type RunscTimeouts,
  type SandboxOutput,
} from './runsc';

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

/** Per-operation choices of a run or restore. */
export interface StartOptions {
  /** The runsc binary for this sandbox (kept for its checkpoint and deletion); the worker's default otherwise. */
  readonly runsc?: string;
  /** Where the sandbox's stdout and stderr go; the worker's `actor.log` otherwise. */
  readonly output?: SandboxOutput;
}

/** What a run or restore reports. */
export interface SandboxStarted {
  /** Time the worker spent before starting runsc: the previous sandbox's deletion, bundle and address. */
  readonly preparedMs: number;
  /** Time from the start of runsc until it returned. */
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
  /** A background deletion of the last sandbox: resolves to undefined, or to its error. */
  private cleanup: Promise<unknown> | undefined;
  /**
   * True while the sandbox address and route are set on the namespace's `eth0` and no sandbox has taken
   * them since: the network was just created, or they were set again once the last sandbox was deleted.
   * A run or restore then starts runsc at once instead of waiting for two `ip` commands.
   */
  private addressReady = true;

  /** The driver of the current (or last) sandbox: the binary that ran it also checkpoints and deletes it. */
  private driver: RunscDriver;

  private constructor(
    private readonly options: WorkerSandboxOptions,
    readonly network: SandboxNetwork,
    private readonly procSysNetWorkaround: boolean,
  ) {
    this.driver = this.driverFor(options.runsc);
  }

  /** Creates the worker's network namespace and decides on the /proc/sys/net workaround. */
  static async open(options: WorkerSandboxOptions): Promise<WorkerSandbox> {
    // A sandbox left behind by a previous process of this worker (killed mid-operation) still runs
    // detached from it; delete it before taking the worker's network over.
    await new RunscDriver({
      runsc: options.runsc,
      stateDir: join(options.workDir, 'runsc-state'),
      procSysNetWorkaround: false,
      timeouts: options.timeouts,
    }).delete(CONTAINER_ID);
    const network = await options.netns.create(options.worker, { endpointIndex: options.endpointIndex });
    try {
      const workaround = await resolveProcSysNetWorkaround(
        options.procSysNetWorkaround,
        options.nsenter,
        network.namespacePath,
      );
      return new WorkerSandbox(options, network, workaround);
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

  /** True while a sandbox runs on this worker. */
  get running(): boolean {
    return this.phase === 'running';
  }

  /** Cold boot of `process` as actor `actorId`, then its readiness probe. */
  run(actorId: string, process: ActorProcess, options: StartOptions = {}): Promise<SandboxStarted> {
    const began = performance.now();
    return this.exclusive('run', ['idle'], async () => {
      const bundle = await this.prepare(actorId, process, options);
      const output = options.output ?? this.logFile;
      return this.started(process, began, () => this.driver.run(CONTAINER_ID, bundle, output));
    });
  }

  /** Restores `imageDir` as actor `actorId` (identity and network set again), then probes readiness. */
  restore(
    actorId: string,
    process: ActorProcess,
    imageDir: string,
    options: StartOptions = {},
  ): Promise<SandboxStarted> {
    const began = performance.now();
    return this.exclusive('restore', ['idle'], async () => {
      const bundle = await this.prepare(actorId, process, options);
      const output = options.output ?? this.logFile;
      return this.started(process, began, () => this.driver.restore(CONTAINER_ID, bundle, imageDir, output));
    });
  }

  /**
   * Checkpoints the running actor into `imageDir`; the worker is free again. The stopped sandbox is deleted
   * in the background (see {@link release}).
   */
  checkpoint(imageDir: string): Promise<CheckpointImage> {
    return this.exclusive('checkpoint', ['running'], async () => {
      let image: CheckpointImage;
      try {
        image = await this.driver.checkpoint(CONTAINER_ID, imageDir);
      } catch (error) {
        // A failed checkpoint usually leaves the sandbox running, but not always (this runsc sometimes
        // loses the sandbox after refusing a connected endpoint): free the worker when it is gone.
        if (!(await this.driver.alive(CONTAINER_ID))) this.release();
        throw error;
      }
      this.release();
      return image;
    });
  }

  /**
   * Stops the running sandbox without a checkpoint: its tasks are frozen (`runsc pause`) before this
   * returns, so nothing writes to its files any more, and it is deleted in the background.
   */
  stop(): Promise<void> {
    return this.exclusive('stop', ['running', 'idle'], async () => {
      if (this.phase !== 'running') return;
      try {
        await this.driver.pause(CONTAINER_ID);
      } catch {
        // Not pausable (already gone, or broken): delete it now instead.
        await this.driver.delete(CONTAINER_ID);
      }
      this.release();
    });
  }

  /** Deletes any sandbox and removes the network namespace. Idempotent. */
  async close(): Promise<void> {
    if (this.inFlight !== undefined) throw new WorkerBusyError(this.options.worker, 'close', this.inFlight);
    if (this.phase === 'closed') return;
    this.inFlight = 'close';
    try {
      await this.settleCleanup();
      await this.driver.delete(CONTAINER_ID);
      await this.options.netns.remove(this.options.worker);
      this.phase = 'closed';
    } finally {
      this.inFlight = undefined;
    }
  }

  /**
   * Frees the worker once its sandbox has stopped (checkpointed or paused) and deletes the sandbox in the
   * background. `runsc delete` waits until the sandbox process is reaped; runsc runs it detached, so it is
   * reaped by PID 1 of ateom's PID namespace, which may take a second (measured: 1.1-1.5 s here). The
   * next operation, or close, waits for the deletion first.
   */
  private release(): void {
    const driver = this.driver;
    this.phase = 'idle';
    this.cleanup = driver.delete(CONTAINER_ID).then(
      // The namespace is free again: set the address for the next run or restore now, off its path.
      () => this.prepareAddress().catch(() => undefined),
      (error: unknown) => error ?? new Error('delete failed'),
    );
  }

  /** Sets the sandbox address and route (runsc takes them over on every run and restore). */
  private async prepareAddress(): Promise<void> {
    await this.options.netns.prepare(this.network);
    this.addressReady = true;
  }

  /** Waits for a background deletion; if it failed, deletes again (and fails if that fails too). */
  private async settleCleanup(): Promise<void> {
    const pending = this.cleanup;
    if (pending === undefined) return;
    this.cleanup = undefined;
    if ((await pending) !== undefined) await this.driver.delete(CONTAINER_ID);
  }

  private driverFor(runsc: string): RunscDriver {
    return new RunscDriver({
      runsc,
      stateDir: join(this.options.workDir, 'runsc-state'),
      procSysNetWorkaround: this.procSysNetWorkaround,
      unshare: this.options.unshare,
      timeouts: this.options.timeouts,
    });
  }

  private async prepare(actorId: string, process: ActorProcess, options: StartOptions): Promise<string> {
    this.driver = this.driverFor(options.runsc ?? this.options.runsc);
    const bundle = join(this.options.workDir, 'bundle');
    const writeFiles = async () => {
      const actorIdFile = await writeActorIdentity(join(this.options.workDir, 'ate'), actorId);
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
    };
    // Both on the path of every restore: the files, and the address unless it was set ahead, together.
    await Promise.all([writeFiles(), this.addressReady ? undefined : this.prepareAddress()]);
    return bundle;
  }

  private async started(
    process: ActorProcess,
    operationBegan: number,
    start: () => Promise<void>,
  ): Promise<SandboxStarted> {
    const began = performance.now();
    const preparedMs = began - operationBegan;
    // From here on runsc may have moved the address into the sandbox.
    this.addressReady = false;
    try {
      await start();
      this.phase = 'running';
      const startedMs = performance.now() - began;
      if (process.readiness === undefined) return { preparedMs, startedMs };
      const readiness = await waitUntilReady({ host: this.address, ...process.readiness });
      return { preparedMs, startedMs, readiness };
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
      await this.settleCleanup();
      return await body();
    } finally {
      this.inFlight = undefined;
    }
  }
}
