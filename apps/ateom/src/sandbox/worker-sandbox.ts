import { join } from 'node:path';
import { writeActorIdentity, writeBundle, type ContainerRole, type DurableMount } from './bundle';
import { conntrackReader, drainConnections, type ConnectionDrain, type ConntrackReader } from './conntrack';
import { ConnectionsNotDrainedError, InvalidSpecError, InvalidStateError, WorkerBusyError } from './errors';
import { NETNS_DIR, type NetnsManager, type SandboxNetwork } from './netns';
import { waitUntilReady, type Readiness } from './readyz';
import {
  RunscDriver,
  resolveProcSysNetWorkaround,
  type CheckpointImage,
  type RunscTimeouts,
  type SandboxOutput,
  validateContainerId,
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

/** One app container of a sandbox. */
export interface SandboxContainer {
  /** Its runsc container id when the sandbox has a pause container (a DNS label other than `pause`). */
  readonly name: string;
  readonly process: ActorProcess;
  /** Where its stdout and stderr go; the worker's `actor.log` otherwise. */
  readonly output?: SandboxOutput;
}

/**
 * What one sandbox runs. Without `pause`, its one container is the sandbox's root container (runsc id
 * `actor`). With `pause`, the pause process is the root container (id `pause`) and every container of
 * `containers` runs beside it in the same sandbox (id = its name), as upstream runs a template: one
 * checkpoint of `pause` covers them all, and a restore restores `pause`, then each of them.
 */
export interface SandboxWorkload {
  readonly pause?: ActorProcess;
  readonly containers: readonly SandboxContainer[];
}

export interface WorkerSandboxOptions {
  readonly worker: string;
  /** Directory of this worker's runsc state, bundles, identity file and logs. */
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
  /**
   * How long a checkpoint (or a stop for a DATA checkpoint) waits for the sandbox's TCP connections to
   * close, read from the conntrack table of the worker's namespace, before refusing with
   * {@link ConnectionsNotDrainedError}; default {@link DEFAULT_CHECKPOINT_DRAIN_MS}, 0 looks once.
   */
  readonly checkpointDrainMs?: number;
}

/** Default bound of the connection drain before a checkpoint. */
export const DEFAULT_CHECKPOINT_DRAIN_MS = 2_000;

/** A checkpoint as the worker reports it: runsc's image and the connection drain before it. */
export interface SandboxCheckpoint extends CheckpointImage {
  readonly drain: ConnectionDrain;
}

/** Per-operation choices of a run or restore. */
export interface StartOptions {
  /** The runsc binary for this sandbox (kept for its checkpoint and deletion); the worker's default otherwise. */
  readonly runsc?: string;
}

/** What a run or restore reports. */
export interface SandboxStarted {
  /** Time the worker spent before starting runsc: the previous sandbox's deletion, bundle and address. */
  readonly preparedMs: number;
  /** Time from the start of runsc until it returned (for every container). */
  readonly startedMs: number;
  /** Readiness of the container that became ready last, when any declares a probe. */
  readonly readiness?: Readiness;
}

/** The id of a single-container sandbox's container in the worker's own runsc state root. */
const SINGLE_CONTAINER_ID = 'actor';
/** The id of the root container of a multi-container sandbox. */
const PAUSE_ID = 'pause';

/** A container as the worker starts it: runsc id, bundle and where its output goes. */
interface PlannedContainer {
  readonly id: string;
  readonly bundle: string;
  readonly output: string | SandboxOutput;
}

/** The workload of a single process, the sandbox's root container. */
export function singleContainer(process: ActorProcess, output?: SandboxOutput): SandboxWorkload {
  return { containers: [{ name: SINGLE_CONTAINER_ID, process, ...(output && { output }) }] };
}

/**
 * The containers of `workload` in start order, root first, with their runsc ids and roles (none for a
 * single container); the pause container's output goes to `logFile`.
 */
export function planContainers(
  workload: SandboxWorkload,
  logFile: string,
): { id: string; process: ActorProcess; role?: ContainerRole; output: string | SandboxOutput }[] {
  const { pause, containers } = workload;
  if (pause === undefined) {
    const [only, ...more] = containers;
    if (only === undefined) throw new InvalidSpecError('a sandbox needs at least one container');
    if (more.length > 0) {
      throw new InvalidSpecError('a sandbox of several containers needs a pause container as its root');
    }
    return [{ id: SINGLE_CONTAINER_ID, process: only.process, output: only.output ?? logFile }];
  }
  if (containers.length === 0) throw new InvalidSpecError('a sandbox needs at least one app container');
  const planned = [
    { id: PAUSE_ID, process: pause, role: { type: 'sandbox', name: PAUSE_ID } as const, output: logFile },
    ...containers.map((container) => ({
      id: validateContainerId(container.name),
      process: container.process,
      role: { type: 'container', name: container.name, sandboxId: PAUSE_ID } as const,
      output: container.output ?? logFile,
    })),
  ];
  const ids = planned.map((container) => container.id);
  if (new Set(ids).size !== ids.length) {
    throw new InvalidSpecError(`container ids must be unique and not "${PAUSE_ID}", got ${ids.join(', ')}`);
  }
  return planned;
}

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
  /** runsc ids of the current (or last) sandbox's containers, its root container first. */
  private containerIds: readonly string[] = [SINGLE_CONTAINER_ID];
  /** Reads the conntrack table of the namespace that routes to the sandbox (the worker's, or ateom's). */
  private readonly conntrack: ConntrackReader;

  private constructor(
    private readonly options: WorkerSandboxOptions,
    readonly network: SandboxNetwork,
    private readonly procSysNetWorkaround: boolean,
  ) {
    this.driver = this.driverFor(options.runsc);
    const forward = network.forward;
    this.conntrack = conntrackReader(
      options.nsenter,
      forward === undefined ? undefined : join(NETNS_DIR, forward.namespace),
    );
  }

  /** Creates the worker's network namespace and decides on the /proc/sys/net workaround. */
  static async open(options: WorkerSandboxOptions): Promise<WorkerSandbox> {
    // A sandbox left behind by a previous process of this worker (killed mid-operation) still runs
    // detached from it; delete it (root container first) before taking the worker's network over.
    const stale = new RunscDriver({
      runsc: options.runsc,
      stateDir: join(options.workDir, 'runsc-state'),
      procSysNetWorkaround: false,
      timeouts: options.timeouts,
    });
    for (const container of await stale.list()) await stale.delete(container.id);
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

  /**
   * Cold boot of `workload` as actor `actorId` (`runsc run` of the root container, then of each app
   * container in order), then the readiness probes of every container that declares one.
   */
  run(actorId: string, workload: SandboxWorkload, options: StartOptions = {}): Promise<SandboxStarted> {
    const began = performance.now();
    return this.exclusive('run', ['idle'], async () => {
      const planned = await this.prepare(actorId, workload, options);
      return this.started(workload, began, async () => {
        for (const container of planned)
          await this.driver.run(container.id, container.bundle, container.output);
      });
    });
  }

  /**
   * Restores `imageDir` as actor `actorId` (identity and network set again): `runsc restore` of the root
   * container, then of each app container from the same image (the sandbox resumes once all are
   * restored), then probes readiness. `workload` must have the containers the checkpoint had.
   */
  restore(
    actorId: string,
    workload: SandboxWorkload,
    imageDir: string,
    options: StartOptions = {},
  ): Promise<SandboxStarted> {
    const began = performance.now();
    return this.exclusive('restore', ['idle'], async () => {
      const planned = await this.prepare(actorId, workload, options);
      return this.started(workload, began, async () => {
        for (const container of planned) {
          await this.driver.restore(container.id, container.bundle, imageDir, container.output);
        }
      });
    });
  }

  /**
   * Checkpoints the running actor into `imageDir`; the worker is free again. The stopped sandbox is deleted
   * in the background (see {@link release}). First waits, bounded, until no TCP connection of the sandbox
   * is open (see {@link drain}); if one still is, fails with {@link ConnectionsNotDrainedError} without
   * calling runsc, and the sandbox keeps running.
   */
  checkpoint(imageDir: string): Promise<SandboxCheckpoint> {
    return this.exclusive('checkpoint', ['running'], async () => {
      const drain = await this.drain();
      let image: CheckpointImage;
      try {
        // The root container's checkpoint covers the whole sandbox, every container in it.
        image = await this.driver.checkpoint(this.rootId, imageDir);
      } catch (error) {
        // A failed checkpoint usually leaves the sandbox running, but not always (this runsc sometimes
        // loses the sandbox after refusing a connected endpoint): free the worker when it is gone.
        if (!(await this.driver.alive(this.rootId))) this.release();
        throw error;
      }
      this.release();
      return { ...image, drain };
    });
  }

  /**
   * Stops the running sandbox without a checkpoint: its tasks are frozen (`runsc pause`) before this
   * returns, so nothing writes to its files any more, and it is deleted in the background. With
   * `drain` (a DATA checkpoint) it first waits for the sandbox's connections as {@link checkpoint} does,
   * and reports the drain; nothing is stopped when connections stay open.
   */
  stop({ drain = false }: { drain?: boolean } = {}): Promise<ConnectionDrain | undefined> {
    return this.exclusive('stop', ['running', 'idle'], async () => {
      if (this.phase !== 'running') return undefined;
      const drained = drain ? await this.drain() : undefined;
      try {
        // Pausing the root container pauses the whole sandbox.
        await this.driver.pause(this.rootId);
      } catch {
        // Not pausable (already gone, or broken): delete it now instead.
        await this.deleteContainers(this.driver, this.containerIds);
      }
      this.release();
      return drained;
    });
  }

  /**
   * Waits until the conntrack table of the namespace that routes to the sandbox shows no TCP connection of
   * the sandbox's inner address open or closing, polling every 5 ms up to the configured bound: this runsc
   * refuses to checkpoint such a connection and may lose the sandbox with the refusal. Throws
   * {@link ConnectionsNotDrainedError} when connections stay open. Without a table (no conntrack in the
   * namespace), or when it cannot be read, reports `untracked` and the checkpoint goes ahead as before.
   */
  private async drain(): Promise<ConnectionDrain> {
    const began = performance.now();
    let drain: ConnectionDrain;
    try {
      drain = await drainConnections({
        read: this.conntrack,
        address: this.network.layout.sandboxAddress,
        timeoutMs: this.options.checkpointDrainMs ?? DEFAULT_CHECKPOINT_DRAIN_MS,
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { outcome: 'untracked', drainMs: performance.now() - began, polls: 0, reason };
    }
    if (drain.outcome === 'open') {
      throw new ConnectionsNotDrainedError(this.rootId, drain.connections, drain.drainMs);
    }
    return drain;
  }

  /** Deletes any sandbox and removes the network namespace. Idempotent. */
  async close(): Promise<void> {
    if (this.inFlight !== undefined) throw new WorkerBusyError(this.options.worker, 'close', this.inFlight);
    if (this.phase === 'closed') return;
    this.inFlight = 'close';
    try {
      await this.settleCleanup();
      await this.deleteContainers(this.driver, this.containerIds);
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
    this.cleanup = this.deleteContainers(driver, this.containerIds).then(
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
    if ((await pending) !== undefined) await this.deleteContainers(this.driver, this.containerIds);
  }

  /** The runsc id of the current (or last) sandbox's root container. */
  private get rootId(): string {
    return this.containerIds[0] ?? SINGLE_CONTAINER_ID;
  }

  /**
   * Deletes a sandbox's containers, root first: after a checkpoint runsc cannot delete an app container
   * while its root exists ("connecting to control server … connection refused"); once the root is
   * deleted, the app containers are only state left to remove.
   */
  private async deleteContainers(driver: RunscDriver, ids: readonly string[]): Promise<void> {
    for (const id of ids) await driver.delete(id);
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

  /**
   * Writes the identity file and one bundle per container (`bundles/<id>/`), and sets the sandbox address
   * unless it was set ahead. Returns the containers in start order, root first.
   */
  private async prepare(
    actorId: string,
    workload: SandboxWorkload,
    options: StartOptions,
  ): Promise<PlannedContainer[]> {
    const containers = planContainers(workload, this.logFile);
    this.driver = this.driverFor(options.runsc ?? this.options.runsc);
    this.containerIds = containers.map((container) => container.id);
    const bundles = join(this.options.workDir, 'bundles');
    const planned = containers.map(({ id, output }) => ({ id, bundle: join(bundles, id), output }));
    const writeFiles = async () => {
      const actorIdFile = await writeActorIdentity(join(this.options.workDir, 'ate'), actorId);
      await Promise.all(
        containers.map(({ id, process, role }) =>
          writeBundle(join(bundles, id), {
            args: process.args,
            env: process.env,
            cwd: process.cwd,
            rootfs: process.rootfs,
            readonlyRootfs: process.readonlyRootfs,
            durableMounts: process.durableMounts,
            networkNamespacePath: this.network.namespacePath,
            // Every app container reads the actor's identity; the pause container has none.
            ...(role?.type !== 'sandbox' && { actorIdFile }),
            ...(role !== undefined && { role }),
          }),
        ),
      );
    };
    // Both on the path of every restore: the files, and the address unless it was set ahead, together.
    await Promise.all([writeFiles(), this.addressReady ? undefined : this.prepareAddress()]);
    return planned;
  }

  private async started(
    workload: SandboxWorkload,
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
      const probes = workload.containers.flatMap(({ process }) =>
        process.readiness === undefined ? [] : [process.readiness],
      );
      if (probes.length === 0) return { preparedMs, startedMs };
      // Every container with a probe, in parallel; the last one to answer decides.
      const results = await Promise.all(
        probes.map((probe) => waitUntilReady({ host: this.address, ...probe })),
      );
      const readiness = results.reduce((last, result) => (result.elapsedMs > last.elapsedMs ? result : last));
      return { preparedMs, startedMs, readiness };
    } catch (error) {
      await this.deleteContainers(this.driver, this.containerIds).catch(() => undefined);
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
