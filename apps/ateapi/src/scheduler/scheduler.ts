import { type ActorTemplate, isPoolEligible, type WorkerPool } from '@substrate/api';
import type { ateapi } from '@substrate/proto';
import { ControlError, failedPrecondition } from '../errors/control-error';
import { isStoreError } from '../store/store-error';
import type { ControlStore } from '../store/control-store';
import { isClaimedBy, type WorkerDirectory } from '../workers/worker-directory';

/** Upstream's message when no pool is eligible. */
export const NO_ELIGIBLE_POOL =
  "no worker pool matches the template's sandboxClass and the template/actor selectors";
/** Upstream's message when every eligible worker is busy. */
export const NO_FREE_WORKERS = 'no free workers available';

export interface SchedulerOptions {
  /** How long a resume may wait for a worker to become free; 0 fails at once as upstream does. */
  readonly capacityWaitMs: number;
  /** At most this many resumes wait per pool; more fail at once. */
  readonly maxWaitersPerPool: number;
  /** Attempts to claim before giving up on compare-and-set conflicts. */
  readonly claimAttempts: number;
}

/** What a resume needs placed. */
export interface PlacementRequest {
  readonly actor: ateapi.Actor;
  readonly template: ActorTemplate;
  readonly pools: readonly WorkerPool[];
  /** When set (the actor has a node-local snapshot), only workers on these nodes qualify. */
  readonly nodes?: readonly string[];
  readonly deadline: number;
}

interface Waiter {
  readonly accept: (worker: ateapi.Worker) => boolean;
  readonly poolKeys: readonly string[];
  wake: () => void;
}

const poolKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/**
 * Places actors on workers: eligible pools by sandbox class, template selector (or workerPoolRef) and
 * the actor's own selector; node locality for actors with a node-local snapshot; a random free worker
 * among those; and when none is free, a bounded FIFO wait (per pool) until one is released or the wait
 * ends. The claim itself is a compare-and-set on the worker record, so two schedulers (or two ateapi
 * replicas) never hand one worker to two actors.
 */
export class Scheduler {
  private readonly waiters: Waiter[] = [];
  private readonly waitersPerPool = new Map<string, number>();

  constructor(
    private readonly store: ControlStore,
    private readonly directory: WorkerDirectory,
    private readonly options: SchedulerOptions,
    private readonly now: () => number = Date.now,
  ) {
    directory.onFree((worker) => this.wakeFor(worker));
  }

  /** The pools an actor of `template` with `selector` may run on; FAILED_PRECONDITION when none. */
  eligiblePools(
    pools: readonly WorkerPool[],
    template: ActorTemplate,
    selector: ateapi.Selector | undefined,
  ): WorkerPool[] {
    const labels = Object.entries(selector?.matchLabels ?? {});
    const eligible = pools.filter(
      (pool) =>
        isPoolEligible(template, pool) &&
        labels.every(([key, value]) => pool.metadata.labels?.[key] === value),
    );
    if (eligible.length === 0) throw failedPrecondition(NO_ELIGIBLE_POOL);
    return eligible;
  }

  /**
   * Claims a worker for the actor: its existing claim when it has one in an eligible pool (a retried
   * resume), else a random free eligible worker, waiting for one up to the capacity wait. The claim is
   * stored on the worker record; the caller then points the actor at it.
   */
  async claim(request: PlacementRequest): Promise<ateapi.Worker> {
    const { actor } = request;
    const eligible = new Set(
      request.pools.map((pool) => poolKey(pool.metadata.namespace ?? 'default', pool.metadata.name ?? '')),
    );
    // Compared field by field: this runs for every cached worker on every claim.
    const inPool = (worker: ateapi.Worker) =>
      request.pools.some(
        (pool) =>
          (pool.metadata.name ?? '') === worker.workerPool &&
          (pool.metadata.namespace ?? 'default') === worker.workerNamespace,
      );
    const onNode = (worker: ateapi.Worker) =>
      !request.nodes?.length || request.nodes.includes(worker.nodeName);

    // A claim left by an earlier attempt (the cache may be stale, so it is confirmed in the store).
    const cached = this.directory.claimOf(actor.atespace, actor.actorId);
    const existing = cached && (await this.directory.reload(cached));
    if (existing && isClaimedBy(existing, actor.atespace, actor.actorId)) {
      if (inPool(existing) && onNode(existing) && !this.directory.isExpired(existing)) return existing;
      await this.release(existing, actor.atespace, actor.actorId);
    }

    const accept = (worker: ateapi.Worker) => inPool(worker) && onNode(worker);
    const waitUntil = Math.min(request.deadline, this.now() + this.options.capacityWaitMs);
    for (let attempt = 0; ;) {
      const worker = this.directory.randomFree(accept);
      if (!worker) {
        await this.waitForFree(accept, [...eligible], waitUntil);
        continue;
      }
      try {
        const claimed = await this.store.putWorker({
          ...worker,
          actorId: actor.actorId,
          actorAtespace: actor.atespace,
          actorNamespace: actor.actorTemplateNamespace,
          actorTemplate: actor.actorTemplateName,
          claimedUnixMs: this.now(),
        });
        this.directory.update(claimed);
        return claimed;
      } catch (error) {
        if (!isStoreError(error, 'CONFLICT') && !isStoreError(error, 'MISSING')) throw error;
        await this.directory.reload(worker);
        if (++attempt >= this.options.claimAttempts) {
          throw new ControlError('ABORTED', 'concurrent update conflict, please retry', { cause: error });
        }
      }
    }
  }

  /** Frees a worker if it is still claimed by the actor (a no-op otherwise, and when it is gone). */
  async release(worker: ateapi.Worker, atespace: string, actorId: string): Promise<void> {
    let current: ateapi.Worker | undefined = worker;
    for (let attempt = 0; attempt < this.options.claimAttempts && current; attempt++) {
      if (!isClaimedBy(current, atespace, actorId)) return;
      try {
        const freed = await this.store.putWorker({
          ...current,
          actorId: '',
          actorAtespace: '',
          actorNamespace: '',
          actorTemplate: '',
          claimedUnixMs: 0,
        });
        this.directory.update(freed);
        return;
      } catch (error) {
        if (isStoreError(error, 'MISSING')) {
          this.directory.remove(current);
          return;
        }
        if (!isStoreError(error, 'CONFLICT')) throw error;
        current = await this.directory.reload(current);
      }
    }
  }

  /** Number of resumes waiting for a worker. */
  get waiting(): number {
    return this.waiters.length;
  }

  private async waitForFree(
    accept: (worker: ateapi.Worker) => boolean,
    poolKeys: string[],
    until: number,
  ): Promise<void> {
    const remaining = until - this.now();
    if (
      remaining <= 0 ||
      poolKeys.some((key) => (this.waitersPerPool.get(key) ?? 0) >= this.options.maxWaitersPerPool)
    ) {
      throw failedPrecondition(NO_FREE_WORKERS);
    }
    let timer: NodeJS.Timeout | undefined;
    const waiter: Waiter = { accept, poolKeys, wake: () => undefined };
    this.waiters.push(waiter);
    for (const key of poolKeys) this.waitersPerPool.set(key, (this.waitersPerPool.get(key) ?? 0) + 1);
    try {
      await new Promise<void>((resolve) => {
        waiter.wake = resolve;
        timer = setTimeout(resolve, remaining);
      });
    } finally {
      clearTimeout(timer);
      const index = this.waiters.indexOf(waiter);
      if (index >= 0) this.waiters.splice(index, 1);
      for (const key of poolKeys) this.waitersPerPool.set(key, (this.waitersPerPool.get(key) ?? 1) - 1);
    }
  }

  /** Wakes the longest-waiting resume that can use `worker` (FIFO across pools). */
  private wakeFor(worker: ateapi.Worker): void {
    const index = this.waiters.findIndex((waiter) => waiter.accept(worker));
    if (index < 0) return;
    const [waiter] = this.waiters.splice(index, 1);
    waiter?.wake();
  }
}
