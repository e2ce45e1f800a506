import { Logger } from '@nestjs/common';
import { ateapi } from '@substrate/proto';
import { invalidArgument } from '../errors/control-error';
import { validateLabel } from '../control/validation';
import type { ControlStore } from '../store/control-store';
import { isStoreError } from '../store/store-error';
import type { ActorWorkflows } from '../workflows/actor-workflows';
import { keyOfWorker, type WorkerDirectory } from './worker-directory';

export interface RegistryOptions {
  /** Lease granted when a report asks for none. */
  readonly defaultLeaseSeconds: number;
  /** Bounds on a requested lease. */
  readonly minLeaseSeconds: number;
  readonly maxLeaseSeconds: number;
}

/**
 * Workers announced by their atelets (`WorkerRegistry.ReportWorkers`), each holding a lease. A report
 * is the node's full set: new workers are added free, listed ones have their lease extended, and
 * workers of the node that are no longer listed are removed after their actor is reset. Expired leases
 * are handled by {@link reapExpired}, which the recovery loop calls.
 */
export class WorkerRegistry {
  private readonly logger = new Logger(WorkerRegistry.name);

  constructor(
    private readonly store: ControlStore,
    private readonly directory: WorkerDirectory,
    private readonly workflows: ActorWorkflows,
    private readonly options: RegistryOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async report(request: ateapi.ReportWorkersRequest): Promise<ateapi.ReportWorkersResponse> {
    if (!request.nodeName) throw invalidArgument('node_name is required');
    if (!/^[^\s/]+:\d{1,5}$/.test(request.ateletEndpoint)) {
      throw invalidArgument(
        `invalid atelet_endpoint ${JSON.stringify(request.ateletEndpoint)}: expected host:port`,
      );
    }
    for (const worker of request.workers) {
      validateLabel('worker_namespace', worker.workerNamespace);
      validateLabel('worker_pool', worker.workerPool);
      validateLabel('worker_pod', worker.workerPod);
      if (!worker.ip) throw invalidArgument(`worker ${worker.workerPod}: ip is required`);
      if (worker.httpPort < 0 || worker.httpPort > 65_535)
        throw invalidArgument(`worker ${worker.workerPod}: invalid http_port ${worker.httpPort}`);
    }
    const leaseSeconds =
      request.leaseSeconds === 0
        ? this.options.defaultLeaseSeconds
        : Math.min(
            this.options.maxLeaseSeconds,
            Math.max(this.options.minLeaseSeconds, request.leaseSeconds),
          );
    const expires = this.now() + leaseSeconds * 1000;

    const reported = request.workers.map((registration): ateapi.Worker => ({
      ...ateapi.Worker.fromPartial({}),
      workerNamespace: registration.workerNamespace,
      workerPool: registration.workerPool,
      workerPod: registration.workerPod,
      ip: registration.ip,
      httpPort: registration.httpPort,
      workerPodUid: registration.workerPodUid,
      nodeName: request.nodeName,
      ateletEndpoint: request.ateletEndpoint,
      leaseExpiresUnixMs: expires,
    }));
    await this.reloadNode(request.nodeName, reported);
    let added = 0;
    const listed = new Set<string>();
    for (const fresh of reported) {
      listed.add(keyOfWorker(fresh));
      const existing = this.directory.get(fresh.workerNamespace, fresh.workerPool, fresh.workerPod);
      if (
        existing &&
        existing.workerPodUid === fresh.workerPodUid &&
        existing.ateletEndpoint === fresh.ateletEndpoint &&
        existing.ip === fresh.ip &&
        existing.httpPort === fresh.httpPort
      ) {
        await this.store.renewWorkerLease(existing, expires).catch(async (error: unknown) => {
          if (!isStoreError(error, 'MISSING')) throw error;
          await this.create(fresh, expires);
        });
        this.directory.update({ ...existing, leaseExpiresUnixMs: expires });
        continue;
      }
      if (existing) {
        // The same name now names another worker (restarted with a new UID or address): the old one is
        // gone, and so is whatever ran on it.
        await this.remove(existing, 'replaced by a new worker of the same name');
      }
      await this.create(fresh, expires);
      added++;
    }
    let removed = 0;
    for (const worker of this.directory.all()) {
      if (worker.nodeName === request.nodeName && !listed.has(keyOfWorker(worker))) {
        if (await this.remove(worker, 'no longer reported by its atelet')) removed++;
      }
    }
    return { leaseSeconds, added, removed };
  }

  /**
   * Brings the directory's view of this node up to date: the workers the report lists and those the
   * directory knows on the node, each read again (not every worker of the cluster: a report costs the
   * node's size, not the cluster's). A worker of the node written by another replica that this directory
   * has not seen yet is left to the next report, after the periodic refresh.
   */
  private async reloadNode(nodeName: string, reported: readonly ateapi.Worker[]): Promise<void> {
    const targets = new Map(reported.map((worker) => [keyOfWorker(worker), worker]));
    for (const worker of this.directory.all()) {
      if (worker.nodeName === nodeName) targets.set(keyOfWorker(worker), worker);
    }
    await Promise.all([...targets.values()].map((worker) => this.directory.reload(worker)));
  }

  /** Removes every worker whose lease has run out (after resetting its actor). */
  async reapExpired(): Promise<number> {
    let reaped = 0;
    for (const worker of this.directory.all()) {
      if (this.directory.isExpired(worker) && (await this.remove(worker, 'lease expired'))) reaped++;
    }
    return reaped;
  }

  private async create(worker: ateapi.Worker, expires: number): Promise<void> {
    try {
      const stored = await this.store.putWorker({ ...worker, version: 0 });
      await this.store.renewWorkerLease(stored, expires);
      this.directory.update({ ...stored, leaseExpiresUnixMs: expires });
    } catch (error) {
      if (!isStoreError(error, 'EXISTS')) throw error;
      await this.directory.reload(worker);
    }
  }

  /** Resets the worker's actor, then deletes the worker; false when its actor is busy (retried later). */
  private async remove(worker: ateapi.Worker, why: string): Promise<boolean> {
    if (!(await this.workflows.workerLost(worker))) return false;
    const current = await this.store.getWorker(worker.workerNamespace, worker.workerPool, worker.workerPod);
    if (current) {
      try {
        await this.store.deleteWorker(current);
      } catch (error) {
        if (isStoreError(error, 'CONFLICT')) return false;
        if (!isStoreError(error, 'MISSING')) throw error;
      }
    }
    this.directory.remove(worker);
    this.logger.warn({
      message: `worker removed: ${why}`,
      worker: `${worker.workerNamespace}/${worker.workerPool}/${worker.workerPod}`,
      actor: worker.actorId ? `${worker.actorAtespace}/${worker.actorId}` : undefined,
    });
    return true;
  }
}
