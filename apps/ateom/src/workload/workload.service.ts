import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  ActorLogFile,
  ContainerOutput,
  actorLogPath,
  platformLabels,
  type ActorLabels,
  type LifecycleEvent,
} from '../actor-log/actor-log';
import { type AteomConfig } from '../config';
import {
  InvalidRequestError,
  InvalidStateError,
  MissingInputError,
  NetnsManager,
  WorkerBusyError,
  WorkerSandbox,
  type ActorProcess,
  type ConnectionDrain,
  type SandboxStarted,
  type SandboxWorkload,
} from '../sandbox';
import { DurableDirs } from './durable-dirs';
import { readPreparedBundle } from './prepared-bundle';
import { RuntimeBinaries } from './runtime-binary';
import {
  actorKey,
  actorPaths,
  durableDirsOf,
  type ActorPaths,
  type WorkloadRequest,
} from './workload-request';

/** The bundle of the root container atelet prepares for a workload of several containers. */
const PAUSE_CONTAINER = 'pause';

/**
 * The sandbox's workload: one container as the sandbox's root, or the pause container as the root with
 * every container beside it (their runsc ids are their names), each writing to its own output capture.
 */
function workloadOf(
  request: WorkloadRequest,
  processes: ActorProcesses,
  outputs: readonly ContainerOutput[],
): SandboxWorkload {
  const containers = request.containers.map(({ name }, i) => {
    const process = processes.containers[i];
    if (process === undefined) throw new Error(`no process for container ${name}`);
    return { name, process, ...(outputs[i] && { output: outputs[i] }) };
  });
  return { ...(processes.pause && { pause: processes.pause }), containers };
}

/** Injection token of the validated configuration. */
export const ATEOM_CONFIG = Symbol('ATEOM_CONFIG');

/** The actor the worker runs right now. */
interface RunningActor {
  readonly request: WorkloadRequest;
  readonly paths: ActorPaths;
  readonly log: ActorLogFile;
  /** The output capture of each container, in spec order. */
  readonly outputs: readonly ContainerOutput[];
}

/** The processes of a workload, read from the bundles atelet prepared. */
interface ActorProcesses {
  /** The root container's process when the workload has several containers (`bundles/pause`). */
  readonly pause?: ActorProcess;
  /** One per container of the request, in spec order. */
  readonly containers: readonly ActorProcess[];
}

/**
 * The worker's single workload: RunWorkload, CheckpointWorkload and RestoreWorkload on its one
 * {@link WorkerSandbox}, one operation at a time (a second fails at once with `BUSY`). Owns the durable
 * dirs' host side, the actor's log capture, and the check of the runsc binary each request names.
 * Opens the worker's network on start; on shutdown waits for the operation in flight, deletes the
 * sandbox and removes the network.
 */
@Injectable()
export class WorkloadService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(WorkloadService.name);
  private readonly binaries: RuntimeBinaries;
  private readonly durable: DurableDirs;
  private sandbox: WorkerSandbox | undefined;
  private current: RunningActor | undefined;
  private inFlight: { operation: string; done: Promise<unknown> } | undefined;
  private closing = false;
  /** The warning that the worker's namespace has no conntrack table is logged once. */
  private untrackedWarned = false;

  constructor(@Inject(ATEOM_CONFIG) private readonly config: AteomConfig) {
    this.binaries = new RuntimeBinaries(config.runsc.path);
    this.durable = new DurableDirs(config.tools.tar);
  }

  async onModuleInit(): Promise<void> {
    const { config } = this;
    await mkdir(config.workDir, { recursive: true, mode: 0o700 });
    this.sandbox = await WorkerSandbox.open({
      worker: config.worker,
      workDir: config.workDir,
      netns: new NetnsManager({ ip: config.tools.ip, nft: config.tools.nft, sysctl: config.tools.sysctl }),
      endpointIndex: config.endpointIndex,
      runsc: config.runsc.path,
      unshare: config.tools.unshare,
      nsenter: config.tools.nsenter,
      procSysNetWorkaround: config.runsc.procSysNetWorkaround,
      checkpointDrainMs: config.checkpointDrainMs,
    });
    this.logger.log({ message: 'worker ready', worker: config.worker, address: this.sandbox.address });
  }

  /** Where clients reach the running actor. */
  get address(): string {
    return this.worker().address;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await this.inFlight?.done.catch(() => undefined);
    const sandbox = this.sandbox;
    if (sandbox === undefined) return;
    if (this.current !== undefined) {
      await sandbox
        .stop()
        .catch((error: unknown) => this.logger.error({ message: 'stop failed', error: String(error) }));
      await this.release('Actor stopped');
    }
    await sandbox.close();
    this.sandbox = undefined;
    this.logger.log({ message: 'worker closed', worker: this.config.worker });
  }

  /** Cold boot: empty durable dirs, the bundle atelet prepared, readiness. */
  run(request: WorkloadRequest): Promise<void> {
    return this.exclusive('RunWorkload', async () => {
      this.requireIdle('RunWorkload');
      const runsc = await this.binaries.runsc(request.runscPath);
      const paths = actorPaths(this.config.actorsDir, request.actor);
      const processes = await this.actorProcesses(request, paths);
      await this.start(
        request,
        paths,
        ['Actor starting', 'Actor started'],
        () => this.durable.reset(paths, durableDirsOf(request.containers)),
        (outputs) =>
          this.worker().run(request.actor.actorId, workloadOf(request, processes, outputs), { runsc }),
      );
    });
  }

  /**
   * FULL: durable dirs from the snapshot, then `runsc restore` of `restore-state/`. DATA: durable dirs
   * from the snapshot, then a cold boot over them.
   */
  restore(request: WorkloadRequest): Promise<void> {
    return this.exclusive('RestoreWorkload', async () => {
      this.requireIdle('RestoreWorkload');
      const runsc = await this.binaries.runsc(request.runscPath);
      const paths = actorPaths(this.config.actorsDir, request.actor);
      const processes = await this.actorProcesses(request, paths);
      const full = request.scope === 'full';
      if (full && !existsSync(join(paths.restoreDir, 'checkpoint.img'))) {
        throw new MissingInputError('FULL snapshot (checkpoint.img)', paths.restoreDir);
      }
      const dirs = durableDirsOf(request.containers);
      await this.start(
        request,
        paths,
        ['Actor restoring', 'Actor restored'],
        () => this.durable.restore(paths, dirs, paths.restoreDir, !full),
        (outputs) => {
          const workload = workloadOf(request, processes, outputs);
          return full
            ? this.worker().restore(request.actor.actorId, workload, paths.restoreDir, { runsc })
            : this.worker().run(request.actor.actorId, workload, { runsc });
        },
      );
    });
  }

  /**
   * Writes the snapshot into `checkpoint-state/` and frees the worker. FULL: runsc checkpoint (memory and
   * rootfs writes) plus the durable dirs; DATA: the sandbox is stopped and only the durable dirs are
   * kept. Returns the snapshot's file names, sorted.
   */
  checkpoint(request: WorkloadRequest): Promise<readonly string[]> {
    return this.exclusive('CheckpointWorkload', async () => {
      const current = this.current;
      if (current === undefined)
        throw new InvalidStateError(this.config.worker, 'CheckpointWorkload', 'idle');
      if (actorKey(current.request.actor) !== actorKey(request.actor)) {
        throw new InvalidStateError(
          this.config.worker,
          `checkpoint actor ${actorKey(request.actor)}`,
          `running actor ${actorKey(current.request.actor)}`,
        );
      }
      const dirs = durableDirsOf(current.request.containers);
      if (request.scope === 'data' && dirs.length === 0) {
        throw new InvalidRequestError(
          'scope',
          'SNAPSHOT_SCOPE_DATA needs a durable dir (no container of spec.containers has durable_dir_volumes)',
        );
      }
      const { paths } = current;
      await rm(paths.checkpointDir, { recursive: true, force: true });
      await mkdir(paths.checkpointDir, { recursive: true, mode: 0o700 });
      this.lifecycle(current, 'Actor checkpointing', { scope: request.scope });
      const began = performance.now();
      let checkpointMs: number | undefined;
      let drain: ConnectionDrain | undefined;
      try {
        if (request.scope === 'full') {
          const image = await this.worker().checkpoint(paths.checkpointDir);
          checkpointMs = image.durationMs;
          drain = image.drain;
        } else {
          drain = await this.worker().stop({ drain: true });
        }
      } catch (error) {
        // The sandbox may be gone with the failure; then the worker is free and the actor lost.
        if (!this.worker().running) {
          this.logger.error({
            message: 'sandbox lost in a failed checkpoint',
            actorId: request.actor.actorId,
          });
          await this.release('Actor stopped');
        }
        throw error;
      }
      if (dirs.length > 0) await this.durable.archive(paths, dirs, paths.checkpointDir);
      const files = (await readdir(paths.checkpointDir, { withFileTypes: true }))
        .filter((entry) => entry.isFile() && !entry.name.endsWith('.tmp'))
        .map((entry) => entry.name)
        .sort();
      if (drain?.outcome === 'untracked') this.warnUntracked(request.actor.actorId, drain.reason);
      // drainMs: the wait for the sandbox's connections to close; checkpointMs: runsc checkpoint.
      const fields = {
        scope: request.scope,
        files,
        drainMs: drain?.drainMs,
        checkpointMs,
        totalMs: performance.now() - began,
      };
      this.lifecycle(current, 'Actor checkpointed', fields);
      this.logger.log({ message: 'checkpointed', actorId: request.actor.actorId, ...fields });
      await this.release();
      return files;
    });
  }

  /**
   * A checkpoint went ahead without looking at the sandbox's connections: once when the namespace has no
   * conntrack table, every time when the table could not be read.
   */
  private warnUntracked(actorId: string, reason: string | undefined): void {
    if (reason === undefined && this.untrackedWarned) return;
    if (reason === undefined) this.untrackedWarned = true;
    this.logger.warn({
      message:
        reason === undefined
          ? 'no conntrack table in the worker namespace: checkpoints do not wait for open connections'
          : 'could not read the conntrack table: checkpoint went ahead without waiting for connections',
      actorId,
      ...(reason !== undefined && { error: reason }),
    });
  }

  /**
   * Each container's process from its bundle, with its durable dirs and probe; with several containers
   * also the pause container's from `bundles/pause`. A missing bundle fails before anything is touched.
   */
  private async actorProcesses(request: WorkloadRequest, paths: ActorPaths): Promise<ActorProcesses> {
    const containers = await Promise.all(
      request.containers.map(async ({ name, readiness, durableDirs }): Promise<ActorProcess> => {
        const bundle = await readPreparedBundle(paths.bundle(name));
        return {
          args: bundle.args,
          env: bundle.env,
          cwd: bundle.cwd,
          rootfs: bundle.rootfs,
          readonlyRootfs: false,
          durableMounts: durableDirs.map((destination) => ({
            source: paths.durableDir(destination),
            destination,
          })),
          ...(readiness && { readiness: { ...readiness, timeoutMs: this.config.readyTimeoutMs } }),
        };
      }),
    );
    if (request.containers.length === 1) return { containers };
    const pause = await readPreparedBundle(paths.bundle(PAUSE_CONTAINER));
    return {
      pause: {
        args: pause.args,
        env: pause.env,
        cwd: pause.cwd,
        rootfs: pause.rootfs,
        readonlyRootfs: false,
      },
      containers,
    };
  }

  /**
   * Opens the actor's log and output capture while `prepare` puts the durable dirs in place (independent
   * steps, both on the path to the first answer, so they run together), then starts the sandbox and
   * records the running actor.
   */
  private async start(
    request: WorkloadRequest,
    paths: ActorPaths,
    [before, after]: [LifecycleEvent, LifecycleEvent],
    prepare: () => Promise<void>,
    start: (outputs: readonly ContainerOutput[]) => Promise<SandboxStarted>,
  ): Promise<void> {
    const began = performance.now();
    const labels: ActorLabels = {
      actorId: request.actor.actorId,
      atespace: request.actor.atespace,
      templateNamespace: request.actor.templateNamespace,
      templateName: request.actor.templateName,
    };
    const log = new ActorLogFile(
      actorLogPath(this.config.logs.dir, labels),
      this.config.logs,
      (error: unknown) =>
        this.logger.warn({
          message: 'actor log write failed',
          actorId: labels.actorId,
          error: String(error),
        }),
    );
    // One output capture per container: its lines are labelled with the container's name.
    const [prepared, ...opened] = await Promise.allSettled([
      prepare(),
      ...request.containers.map(({ name }) =>
        ContainerOutput.open({
          pipeDir: join(this.config.workDir, 'pipes'),
          container: name,
          file: log,
          labels,
        }),
      ),
    ]);
    const outputs = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failed = [prepared, ...opened].find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      for (const output of outputs) output.close();
      await log.close();
      throw failed.reason;
    }
    const running: RunningActor = { request, paths, log, outputs };
    this.lifecycle(running, before, { scope: request.scope });
    const setupMs = performance.now() - began;
    let started: SandboxStarted;
    try {
      started = await start(outputs);
    } catch (error) {
      for (const output of outputs) output.close();
      this.lifecycle(running, 'Actor stopped', {
        error: error instanceof Error ? error.message : String(error),
      });
      await log.close();
      throw error;
    } finally {
      for (const output of outputs) output.releaseWriteEnds();
    }
    this.current = running;
    // setupMs: durable dirs and log pipes; preparedMs: the worker's bundle and address; then runsc and
    // the probe. The sum, totalMs, is the operation as its caller sees it, less the gRPC call.
    const fields = {
      scope: request.scope,
      totalMs: performance.now() - began,
      setupMs,
      preparedMs: started.preparedMs,
      runscMs: started.startedMs,
      readyMs: started.readiness?.elapsedMs,
      readyAttempts: started.readiness?.attempts,
    };
    this.lifecycle(running, after, fields);
    this.logger.log({ message: after, actorId: request.actor.actorId, ...fields });
  }

  /** Stops capturing the current actor's output and closes its log; the worker is free. */
  private async release(event?: LifecycleEvent): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (current === undefined) return;
    if (event !== undefined) this.lifecycle(current, event, {});
    for (const output of current.outputs) output.close();
    await current.log.close();
  }

  private lifecycle(actor: RunningActor, message: LifecycleEvent, fields: Record<string, unknown>): void {
    const { request } = actor;
    actor.log.write({
      time: new Date().toISOString(),
      message,
      ...fields,
      stream: 'lifecycle',
      labels: platformLabels({
        actorId: request.actor.actorId,
        atespace: request.actor.atespace,
        templateNamespace: request.actor.templateNamespace,
        templateName: request.actor.templateName,
      }),
    });
  }

  /** Run and Restore need a free worker; checked before touching any of the actor's files. */
  private requireIdle(operation: string): void {
    const current = this.current;
    if (current !== undefined) {
      throw new InvalidStateError(
        this.config.worker,
        operation,
        `running actor ${actorKey(current.request.actor)}`,
      );
    }
  }

  private worker(): WorkerSandbox {
    if (this.sandbox === undefined) throw new InvalidStateError(this.config.worker, 'operate', 'not open');
    return this.sandbox;
  }

  private async exclusive<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (this.inFlight !== undefined) {
      throw new WorkerBusyError(this.config.worker, operation, this.inFlight.operation);
    }
    if (this.closing) throw new InvalidStateError(this.config.worker, operation, 'shutting down');
    const done = body();
    this.inFlight = { operation, done };
    try {
      return await done;
    } finally {
      this.inFlight = undefined;
    }
  }
}
