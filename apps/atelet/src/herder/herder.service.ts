import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { type ateom } from '@substrate/proto';
import { type RuntimeAsset } from '@substrate/snapshot';
import { assetsForArch, SandboxAssetCache } from '../assets/sandbox-assets';
import { AteomClient } from '../ateom/ateom-client';
import { bundleConfig, containerProcess, writeBundle } from '../bundle/bundle-config';
import { type AteletConfig, type WorkerConfig } from '../config';
import {
  AteomCallError,
  InvalidRequestError,
  NotRunningError,
  ShuttingDownError,
  UnknownWorkerError,
  WorkerBusyError,
} from '../errors/atelet-error';
import { OciLayoutSource, RegistrySource } from '../images/image-source';
import { RootfsCache } from '../images/rootfs-cache';
import { actorPaths, type ActorPaths } from '../node/actor-paths';
import { SnapshotTransfer } from '../snapshots/snapshot-transfer';
import {
  actorKey,
  type ActorRef,
  type CheckpointCall,
  type RestoreCall,
  type RunCall,
  type ContainerRequest,
  type Scope,
  type WorkloadRequestSpec,
} from './herder-request';

/** The bundle name of the sandbox's root container, and its program (upstream's pause bundle). */
const PAUSE_CONTAINER = 'pause';
const PAUSE_COMMAND = '/pause';

/** Injection token of the validated configuration. */
export const ATELET_CONFIG = Symbol('ATELET_CONFIG');

/** What a worker runs, as atelet started it (persisted, so a restarted atelet can still checkpoint it). */
interface RunningWorkload {
  readonly actor: ActorRef;
  readonly ateomSpec: ateom.WorkloadSpec;
  readonly runscPath: string;
  readonly assets: Readonly<Record<string, RuntimeAsset>>;
  /** Manifest digests of the images the sandbox's containers run (the pause image included). */
  readonly imageDigests: readonly string[];
}

/** A checkpoint whose files ateom wrote but whose upload failed; a retried Checkpoint uploads them. */
interface PendingCheckpoint {
  readonly key: string;
  readonly scope: Scope;
  readonly files: readonly string[];
  readonly assets: Readonly<Record<string, RuntimeAsset>>;
}

interface WorkerState {
  readonly config: WorkerConfig;
  readonly client: AteomClient;
  inFlight?: { readonly operation: string; readonly done: Promise<unknown> };
  running?: RunningWorkload;
  pending?: PendingCheckpoint;
}

/** Figures of one Restore, logged and returned for tests and benchmarks. */
export interface RestoreTiming {
  readonly downloadMs: number;
  readonly unpackMs: number;
  readonly ateomRestoreMs: number;
  readonly totalMs: number;
  readonly bytes: number;
}

const SCOPE_OF: Record<Scope, ateom.SnapshotScope> = { full: 1, data: 2 };

/**
 * atelet's `AteomHerder` operations on the workers of this node: Run (assets, images, bundles, ateom
 * RunWorkload), Checkpoint (ateom CheckpointWorkload, then the files to object storage or to the node) and
 * Restore (the snapshot fetched and verified while the bundles are rebuilt, then ateom RestoreWorkload). One
 * operation at a time per worker; a second fails at once with WORKER_BUSY. A worker that still runs another
 * actor (a stale sandbox the control plane released without a checkpoint) is stopped before Run or Restore.
 */
@Injectable()
export class HerderService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(HerderService.name);
  private readonly workers = new Map<string, WorkerState>();
  private readonly assets: SandboxAssetCache;
  private readonly images: RootfsCache;
  private readonly transfer: SnapshotTransfer;
  private closing = false;

  constructor(@Inject(ATELET_CONFIG) private readonly config: AteletConfig) {
    this.assets = new SandboxAssetCache(join(config.cacheDir, 'static-files'), config.storage);
    this.images = new RootfsCache(
      join(config.cacheDir, 'rootfs'),
      config.rootfsCacheMaxBytes,
      {
        layout: new OciLayoutSource(),
        registry: new RegistrySource({ credentials: (registry) => config.registryAuth[registry] }),
      },
      config.arch,
    );
    this.transfer = new SnapshotTransfer(config.storage, config.transferTimeoutMs);
    for (const worker of config.workers) {
      this.workers.set(worker.uid, {
        config: worker,
        client: new AteomClient(worker.name, worker.socket, config.ateomTimeoutMs),
      });
    }
  }

  async onModuleInit(): Promise<void> {
    await mkdir(this.config.actorsDir, { recursive: true, mode: 0o755 });
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    await this.images.init();
    for (const name of await readdir(this.stateDir)) {
      const worker = this.workers.get(name.replace(/\.json$/, ''));
      if (worker === undefined) continue;
      try {
        const record = JSON.parse(await readFile(join(this.stateDir, name), 'utf8')) as RunningWorkload & {
          imageDigest?: string;
        };
        // A record of an older atelet names its one image as `imageDigest`.
        const imageDigests =
          record.imageDigests ?? (record.imageDigest === undefined ? [] : [record.imageDigest]);
        worker.running = { ...record, imageDigests };
        this.images.pin(worker.config.uid, imageDigests);
      } catch {
        await rm(join(this.stateDir, name), { force: true });
      }
    }
    this.logger.log({ message: 'atelet ready', workers: [...this.workers.keys()], arch: this.config.arch });
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await Promise.all(
      [...this.workers.values()].map((w) => w.inFlight?.done.catch(() => undefined) ?? Promise.resolve()),
    );
    for (const worker of this.workers.values()) worker.client.close();
  }

  /** The workers this atelet drives. */
  workerConfigs(): readonly WorkerConfig[] {
    return this.config.workers;
  }

  run(call: RunCall): Promise<void> {
    const worker = this.worker(call.workerUid);
    return this.exclusive(worker, 'Run', async () => {
      const began = performance.now();
      const files = assetsForArch(call.assets, this.config.arch);
      const runscAsset = files['runsc'];
      if (runscAsset === undefined)
        throw new InvalidRequestError(
          `sandbox_assets.assets[${this.config.arch}].files`,
          'needs a runsc asset',
        );
      const paths = actorPaths(this.config.actorsDir, call.actor);
      const [assetPaths] = await Promise.all([
        this.assets.ensureAll(files),
        this.stopDuplicates(worker, call.actor).then(() => this.replaceStale(worker, call.actor)),
      ]);
      await this.resetActorDirs(paths);
      const bundles = await this.prepareBundles(call.spec, paths);
      const runscPath = assetPaths['runsc'] as string;
      const running: RunningWorkload = {
        actor: call.actor,
        ateomSpec: bundles.ateomSpec,
        runscPath,
        assets: { ...files },
        imageDigests: bundles.imageDigests,
      };
      this.images.pin(worker.config.uid, bundles.imageDigests);
      await worker.client.run({
        ...this.ateomActor(call.actor),
        runscPath,
        spec: bundles.ateomSpec,
        runtimeAssetPaths: {},
      });
      await this.setRunning(worker, running);
      await this.writeRecord(paths, running.assets);
      this.logger.log({
        message: 'Run done',
        actorId: call.actor.actorId,
        worker: worker.config.name,
        unpackMs: Math.round(bundles.unpackMs),
        totalMs: Math.round(performance.now() - began),
      });
    });
  }

  checkpoint(call: CheckpointCall): Promise<readonly string[]> {
    const worker = this.worker(call.workerUid);
    return this.exclusive(worker, 'Checkpoint', async () => {
      const began = performance.now();
      const key = actorKey(call.actor);
      const paths = actorPaths(this.config.actorsDir, call.actor);
      const running = worker.running;
      let pending: PendingCheckpoint;
      if (running === undefined || actorKey(running.actor) !== key) {
        // A retry after a failed upload: ateom's files are still in checkpoint-state.
        if (worker.pending?.key === key && worker.pending.scope === call.scope) pending = worker.pending;
        else {
          throw new NotRunningError(
            worker.config.name,
            running === undefined
              ? `no actor is running, cannot checkpoint ${key}`
              : `runs actor ${actorKey(running.actor)}, not ${key}`,
          );
        }
      } else {
        await rm(paths.checkpointDir, { recursive: true, force: true });
        const files = await worker.client.checkpoint({
          ...this.ateomActor(call.actor),
          runscPath: running.runscPath,
          spec: running.ateomSpec,
          snapshotUriPrefix: '',
          runtimeAssetPaths: {},
          scope: SCOPE_OF[call.scope],
        });
        // The sandbox is gone now, whatever happens to the upload.
        await this.setRunning(worker, undefined);
        if (files.length === 0)
          throw new NotRunningError(worker.config.name, 'ateom reported no snapshot files');
        pending = { key, scope: call.scope, files, assets: running.assets };
        worker.pending = pending;
      }
      const checkpointedMs = performance.now() - began;
      const runtime = { scope: call.scope, assets: pending.assets };
      let compressedBytes: number | undefined;
      if (call.target.kind === 'external') {
        ({ compressedBytes } = await this.transfer.uploadExternal(
          call.target.uri,
          paths.checkpointDir,
          pending.files,
          runtime,
        ));
      } else {
        await this.transfer.saveLocal(
          paths.checkpointDir,
          paths.localCheckpoint(call.target.prefix),
          pending.files,
          runtime,
        );
      }
      worker.pending = undefined;
      await rm(paths.checkpointDir, { recursive: true, force: true });
      this.logger.log({
        message: 'Checkpoint done',
        actorId: call.actor.actorId,
        worker: worker.config.name,
        target: call.target.kind,
        scope: call.scope,
        files: pending.files,
        compressedBytes,
        checkpointMs: Math.round(checkpointedMs),
        totalMs: Math.round(performance.now() - began),
      });
      return pending.files;
    });
  }

  restore(call: RestoreCall): Promise<RestoreTiming> {
    const worker = this.worker(call.workerUid);
    return this.exclusive(worker, 'Restore', async () => {
      const began = performance.now();
      const paths = actorPaths(this.config.actorsDir, call.actor);
      await this.stopDuplicates(worker, call.actor);
      await this.replaceStale(worker, call.actor);
      await this.resetActorDirs(paths);
      const fetchSnapshot = async () => {
        const start = performance.now();
        const snapshot =
          call.target.kind === 'external'
            ? await this.transfer.downloadExternal(call.target.uri, paths.restoreDir)
            : await this.transfer.fetchLocal(paths.localCheckpoint(call.target.prefix), paths.restoreDir);
        const assetPaths = await this.assets.ensureAll(snapshot.assets);
        return { snapshot, assetPaths, ms: performance.now() - start };
      };
      const [fetched, bundles] = await Promise.all([fetchSnapshot(), this.prepareBundles(call.spec, paths)]);
      const runscPath = fetched.assetPaths['runsc'];
      if (runscPath === undefined)
        throw new InvalidRequestError('snapshot', 'the snapshot manifest records no runsc asset');
      if (fetched.snapshot.scope !== call.scope) {
        this.logger.warn({
          message: 'snapshot scope differs from the request',
          actorId: call.actor.actorId,
          snapshot: fetched.snapshot.scope,
          requested: call.scope,
        });
      }
      this.images.pin(worker.config.uid, bundles.imageDigests);
      const ateomStart = performance.now();
      await worker.client.restore({
        ...this.ateomActor(call.actor),
        runscPath,
        spec: bundles.ateomSpec,
        snapshotUriPrefix: '',
        runtimeAssetPaths: {},
        scope: SCOPE_OF[call.scope],
      });
      const ateomRestoreMs = performance.now() - ateomStart;
      const running: RunningWorkload = {
        actor: call.actor,
        ateomSpec: bundles.ateomSpec,
        runscPath,
        assets: fetched.snapshot.assets,
        imageDigests: bundles.imageDigests,
      };
      await this.setRunning(worker, running);
      await this.writeRecord(paths, running.assets);
      await rm(paths.restoreDir, { recursive: true, force: true });
      const timing: RestoreTiming = {
        downloadMs: fetched.ms,
        unpackMs: bundles.unpackMs,
        ateomRestoreMs,
        totalMs: performance.now() - began,
        bytes: fetched.snapshot.bytes,
      };
      // One line, so it can be grepped and parsed: `Restore timing breakdown actor=… download=…ms …`.
      this.logger.log(
        `Restore timing breakdown actorId=${call.actor.actorId} worker=${worker.config.name} source=${call.target.kind} ` +
          `download=${Math.round(timing.downloadMs)}ms oci_unpack=${Math.round(timing.unpackMs)}ms ` +
          `ateom_restore=${Math.round(timing.ateomRestoreMs)}ms total=${Math.round(timing.totalMs)}ms bytes=${timing.bytes}`,
      );
      return timing;
    });
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private get stateDir(): string {
    return join(this.config.cacheDir, 'workers');
  }

  private worker(uid: string): WorkerState {
    const worker = this.workers.get(uid);
    if (worker === undefined) throw new UnknownWorkerError(uid);
    return worker;
  }

  private ateomActor(actor: ActorRef) {
    return {
      actorTemplateNamespace: actor.templateNamespace,
      actorTemplateName: actor.templateName,
      actorId: actor.actorId,
      actorAtespace: actor.atespace,
    };
  }

  private async exclusive<T>(worker: WorkerState, operation: string, body: () => Promise<T>): Promise<T> {
    if (this.closing) throw new ShuttingDownError();
    if (worker.inFlight !== undefined)
      throw new WorkerBusyError(worker.config.name, operation, worker.inFlight.operation);
    const done = body();
    worker.inFlight = { operation, done };
    try {
      return await done;
    } finally {
      worker.inFlight = undefined;
    }
  }

  private async setRunning(worker: WorkerState, running: RunningWorkload | undefined): Promise<void> {
    worker.running = running;
    const file = join(this.stateDir, `${worker.config.uid}.json`);
    if (running === undefined) {
      this.images.unpin(worker.config.uid);
      await rm(file, { force: true });
      return;
    }
    await writeFile(`${file}.tmp`, JSON.stringify(running), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  /**
   * An actor runs on at most one worker of the node: when it is started on `target`, a sandbox of the same
   * actor that another worker still runs (the control plane moved the actor after a crash) is stopped first,
   * so two sandboxes never share the actor's directory. A worker busy with another operation refuses
   * (WORKER_BUSY).
   */
  private async stopDuplicates(target: WorkerState, actor: ActorRef): Promise<void> {
    const key = actorKey(actor);
    for (const other of this.workers.values()) {
      if (other === target || other.running === undefined || actorKey(other.running.actor) !== key) continue;
      await this.exclusive(other, `stop of actor ${key}`, () => this.replaceStale(other, actor));
    }
  }

  /**
   * Frees a worker that still runs an actor (a stale sandbox: the control plane released the worker
   * without a checkpoint, e.g. after a crash). ateom refuses Run and Restore on a busy worker and has no
   * stop call, so atelet checkpoints the stale sandbox (DATA scope when it has durable dirs: ateom then
   * only stops it; FULL otherwise) and throws the files away. An ateom that is idle already (it was
   * restarted) answers FAILED_PRECONDITION, which is fine; other failures are logged and the operation goes
   * on (ateom refuses it if the worker is still busy).
   */
  private async replaceStale(worker: WorkerState, next: ActorRef): Promise<void> {
    const stale = worker.running;
    worker.pending = undefined;
    if (stale === undefined) return;
    const data = stale.ateomSpec.containers.some((container) => container.durableDirVolumes.length > 0);
    this.logger.warn({
      message: 'replacing a stale sandbox',
      worker: worker.config.name,
      actorId: next.actorId,
      staleActor: actorKey(stale.actor),
    });
    const stalePaths = actorPaths(this.config.actorsDir, stale.actor);
    try {
      await worker.client.checkpoint({
        ...this.ateomActor(stale.actor),
        runscPath: stale.runscPath,
        spec: stale.ateomSpec,
        snapshotUriPrefix: '',
        runtimeAssetPaths: {},
        scope: SCOPE_OF[data ? 'data' : 'full'],
      });
    } catch (error) {
      // FAILED_PRECONDITION: ateom is idle already (it was restarted). Anything else (e.g. a checkpoint
      // refused because a client still holds a connection, after which ateom frees the worker) is logged;
      // if the worker is still busy, ateom's own refusal of the Run or Restore tells the caller.
      const idle = error instanceof AteomCallError && error.grpcCode === status.FAILED_PRECONDITION;
      this.logger.warn({
        message: idle ? 'stale sandbox already gone' : 'stopping the stale sandbox failed',
        worker: worker.config.name,
        actorId: next.actorId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    await rm(stalePaths.checkpointDir, { recursive: true, force: true });
    await this.setRunning(worker, undefined);
  }

  /** Recreates the actor's scratch dirs empty; `local-checkpoint/`, the record and durable dirs stay. */
  private async resetActorDirs(paths: ActorPaths): Promise<void> {
    await mkdir(paths.dir, { recursive: true, mode: 0o755 });
    for (const dir of [paths.bundlesDir, paths.checkpointDir, paths.restoreDir]) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true, mode: 0o700 });
    }
  }

  /**
   * Pulls each container's image (or finds it in the rootfs cache) and writes its bundle; with more than
   * one container also the bundle of the sandbox's root container, `bundles/pause`, from `pause_image`
   * (upstream's: args `/pause`, no env). All images are prepared in parallel.
   */
  private async prepareBundles(
    spec: WorkloadRequestSpec,
    paths: ActorPaths,
  ): Promise<{ ateomSpec: ateom.WorkloadSpec; imageDigests: string[]; unpackMs: number }> {
    if (spec.containers.length === 0) throw new InvalidRequestError('spec.containers', 'is empty');
    const prepareContainer = async (container: ContainerRequest, i: number) => {
      const image = await this.images.prepare(container.image);
      const process = await containerProcess(container, image.config, image.rootfs, `spec.containers[${i}]`);
      await writeBundle(paths.bundle(container.name), bundleConfig(process, image.rootfs, container.name));
      return image;
    };
    const preparePause = async () => {
      if (spec.pauseImage === '') throw new InvalidRequestError('spec.pause_image', 'is required');
      const image = await this.images.prepare(spec.pauseImage);
      const process = { args: [PAUSE_COMMAND], env: [], cwd: '/', user: { uid: 0, gid: 0 } };
      await writeBundle(
        paths.bundle(PAUSE_CONTAINER),
        bundleConfig(process, image.rootfs, PAUSE_CONTAINER, 'sandbox'),
      );
      return image;
    };
    const images = await Promise.all([
      ...spec.containers.map(prepareContainer),
      ...(spec.containers.length > 1 ? [preparePause()] : []),
    ]);
    return {
      ateomSpec: {
        containers: spec.containers.map((container) => ({
          name: container.name,
          readyz:
            container.readyz === undefined
              ? undefined
              : { httpGet: { path: container.readyz.path, port: container.readyz.port } },
          durableDirVolumes: [...container.durableDirMounts],
        })),
      },
      imageDigests: [...new Set(images.map((image) => image.digest))],
      // Prepared in parallel: the slowest unpack is what the operation waited for.
      unpackMs: Math.max(...images.map((image) => image.unpackMs)),
    };
  }

  /** `sandbox-assets.json`: the runtime the actor runs with (upstream's on-node record). */
  private async writeRecord(
    paths: ActorPaths,
    assets: Readonly<Record<string, RuntimeAsset>>,
  ): Promise<void> {
    const temp = `${paths.record}.tmp`;
    await writeFile(temp, JSON.stringify({ sandboxClass: 'gvisor', assets }), { mode: 0o600 });
    await rename(temp, paths.record);
  }
}
