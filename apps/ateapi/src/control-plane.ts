import { Logger } from '@nestjs/common';
import type { AteletPort } from './atelet/atelet-port';
import { type Catalog, MemoryCatalog } from './catalog/catalog';
import { FileCatalog } from './catalog/file-catalog';
import type { AteapiConfig } from './config';
import { ControlService } from './control/control.service';
import { RecoveryLoop } from './recovery/recovery-loop';
import { Scheduler } from './scheduler/scheduler';
import { SnapshotCollector } from './snapshots/snapshot-collector';
import { ControlStore } from './store/control-store';
import { RedisConnection } from './store/redis-connection';
import { ActorWorkflows, type SnapshotProbe } from './workflows/actor-workflows';
import { StorageSnapshotProbe } from './workflows/storage-snapshot-probe';
import { WorkerDirectory } from './workers/worker-directory';
import { WorkerRegistry } from './workers/worker-registry';

/** Ports a caller may replace (tests, benchmarks); the defaults are the production adapters. */
export interface ControlPlanePorts {
  readonly atelet: AteletPort;
  readonly catalog?: Catalog;
  readonly snapshots?: SnapshotProbe;
}

/** Every long-lived part of ateapi, wired together; started and stopped as one. */
export class ControlPlane {
  private readonly logger = new Logger(ControlPlane.name);

  private constructor(
    readonly connection: RedisConnection,
    readonly store: ControlStore,
    readonly catalog: Catalog,
    readonly directory: WorkerDirectory,
    readonly scheduler: Scheduler,
    readonly workflows: ActorWorkflows,
    readonly registry: WorkerRegistry,
    readonly control: ControlService,
    readonly recovery: RecoveryLoop,
    readonly snapshots: SnapshotCollector,
    private readonly atelet: AteletPort,
  ) {}

  /** Connects to Redis, loads the catalog and the workers; throws (naming what failed) when it cannot. */
  static async start(config: AteapiConfig, ports: ControlPlanePorts): Promise<ControlPlane> {
    const connection = new RedisConnection(config.redis);
    await connection.connect();
    const store = new ControlStore(connection);
    let catalog = ports.catalog;
    if (!catalog) {
      if (config.manifestsDir) {
        const files = new FileCatalog(config.manifestsDir);
        await files.load();
        files.watch(2_000);
        catalog = files;
      } else {
        catalog = new MemoryCatalog();
      }
    }
    const directory = new WorkerDirectory(store);
    await directory.refresh();
    const scheduler = new Scheduler(store, directory, {
      capacityWaitMs: config.capacityWaitMs,
      maxWaitersPerPool: config.maxWaitersPerPool,
      claimAttempts: 8,
    });
    const workflows = new ActorWorkflows(
      store,
      directory,
      scheduler,
      catalog,
      ports.atelet,
      ports.snapshots ?? new StorageSnapshotProbe(),
      { lockTtlMs: config.lockTtlMs, deadlineMs: config.workflowDeadlineMs },
    );
    const registry = new WorkerRegistry(store, directory, workflows, {
      defaultLeaseSeconds: config.leaseSeconds,
      minLeaseSeconds: 1,
      maxLeaseSeconds: 3_600,
    });
    const snapshots = new SnapshotCollector(catalog);
    const control = new ControlService(
      store,
      catalog,
      workflows,
      directory,
      { debugClearEnabled: config.debugClearEnabled },
      (actor) => snapshots.actorDeleted(actor),
    );
    const recovery = new RecoveryLoop(store, directory, registry, scheduler, workflows, {
      intervalMs: config.recoveryIntervalMs,
      stuckAfterMs: config.stuckAfterMs,
      claimGraceMs: config.claimGraceMs,
    });
    return new ControlPlane(
      connection,
      store,
      catalog,
      directory,
      scheduler,
      workflows,
      registry,
      control,
      recovery,
      snapshots,
      ports.atelet,
    );
  }

  /** Stops the background loop, waits for in-flight workflows, closes connections. */
  async stop(): Promise<void> {
    await this.recovery.onApplicationShutdown();
    await this.workflows.drain();
    if (this.catalog instanceof FileCatalog) this.catalog.onApplicationShutdown();
    await this.atelet.close();
    await this.connection.close();
    this.logger.log('stopped');
  }
}
