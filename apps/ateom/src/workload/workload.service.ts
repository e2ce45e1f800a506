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
  type SandboxStarted,
  type StartOptions,
} from '../sandbox';
import { DurableDirs } from './durable-dirs';
import { readPreparedBundle } from './prepared-bundle';
import { RuntimeBinaries } from './runtime-binary';
import { actorKey, actorPaths, type ActorPaths, type WorkloadRequest } from './workload-request';

/** Injection token of the validated configuration. */
export const ATEOM_CONFIG = Symbol('ATEOM_CONFIG');

/** The actor the worker runs right now. */
interface RunningActor {
  readonly request: WorkloadRequest;
  readonly paths: ActorPaths;
  readonly log: ActorLogFile;
  readonly output: ContainerOutput;
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
      const process = await this.actorProcess(request, paths);
      await this.start(
        request,
        paths,
        ['Actor starting', 'Actor started'],
        () => this.durable.reset(paths, request.container.durableDirs),
        (options) => this.worker().run(request.actor.actorId, process, { ...options, runsc }),
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
      const process = await this.actorProcess(request, paths);
      const full = request.scope === 'full';
      if (full && !existsSync(join(paths.restoreDir, 'checkpoint.img'))) {
        throw new MissingInputError('FULL snapshot (checkpoint.img)', paths.restoreDir);
      }
      const dirs = request.container.durableDirs;
      await this.start(
        request,
        paths,
        ['Actor restoring', 'Actor restored'],
        () => this.durable.restore(paths, dirs, paths.restoreDir, !full),
        (options) =>
          full
            ? this.worker().restore(request.actor.actorId, process, paths.restoreDir, { ...options, runsc })
            : this.worker().run(request.actor.actorId, process, { ...options, runsc }),
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
      const dirs = current.request.container.durableDirs;
      if (request.scope === 'data' && dirs.length === 0) {
        throw new InvalidRequestError(
          'scope',
          'SNAPSHOT_SCOPE_DATA needs a durable dir (spec.containers[0].durable_dir_volumes is empty)',
        );
      }
      const { paths } = current;
      await rm(paths.checkpointDir, { recursive: true, force: true });
      await mkdir(paths.checkpointDir, { recursive: true, mode: 0o700 });
      this.lifecycle(current, 'Actor checkpointing', { scope: request.scope });
      const began = performance.now();
      let checkpointMs: number | undefined;
      try {
        if (request.scope === 'full') {
          checkpointMs = (await this.worker().checkpoint(paths.checkpointDir)).durationMs;
        } else {
          await this.worker().stop();
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
      const fields = { scope: request.scope, files, checkpointMs, totalMs: performance.now() - began };
      this.lifecycle(current, 'Actor checkpointed', fields);
      this.logger.log({ message: 'checkpointed', actorId: request.actor.actorId, ...fields });
      await this.release();
      return files;
    });
  }

  private async actorProcess(request: WorkloadRequest, paths: ActorPaths): Promise<ActorProcess> {
    const bundle = await readPreparedBundle(paths.bundle(request.container.name));
    const { readiness, durableDirs } = request.container;
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
    start: (options: StartOptions) => Promise<SandboxStarted>,
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
    const [opened, prepared] = await Promise.allSettled([
      ContainerOutput.open({
        pipeDir: join(this.config.workDir, 'pipes'),
        container: request.container.name,
        file: log,
        labels,
      }),
      prepare(),
    ]);
    if (opened.status === 'rejected' || prepared.status === 'rejected') {
      if (opened.status === 'fulfilled') opened.value.close();
      await log.close();
      throw opened.status === 'rejected' ? opened.reason : (prepared as PromiseRejectedResult).reason;
    }
    const output = opened.value;
    const running: RunningActor = { request, paths, log, output };
    this.lifecycle(running, before, { scope: request.scope });
    const setupMs = performance.now() - began;
    let started: SandboxStarted;
    try {
      started = await start({ output });
    } catch (error) {
      output.close();
      this.lifecycle(running, 'Actor stopped', {
        error: error instanceof Error ? error.message : String(error),
      });
      await log.close();
      throw error;
    } finally {
      output.releaseWriteEnds();
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
    current.output.close();
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
