import type { ateapi } from '@substrate/proto';
import type { ControlStore } from '../store/control-store';
import { workerKey } from '../store/keys';

/** The key of a worker in the directory (and in Redis). */
export const keyOfWorker = (worker: ateapi.Worker): string =>
  workerKey(worker.workerNamespace, worker.workerPool, worker.workerPod);

/** Whether a worker is claimed by the actor `atespace/actorId`. */
export const isClaimedBy = (worker: ateapi.Worker, atespace: string, actorId: string): boolean =>
  worker.actorId === actorId && worker.actorAtespace === atespace;

/**
 * ateapi's in-memory view of every worker, used by the scheduler to find free workers without a Redis
 * round trip. It is a cache: this process's own writes update it at once, a periodic relist picks up
 * everyone else's, and every claim is a compare-and-set on the stored record, so a stale entry costs a
 * retry, never a double assignment.
 */
export class WorkerDirectory {
  private workers = new Map<string, ateapi.Worker>();
  /** Sequence number of this process's last write per key, to protect it from an older listing. */
  private readonly writtenAt = new Map<string, number>();
  private writes = 0;
  private readonly freeListeners = new Set<(worker: ateapi.Worker) => void>();

  constructor(
    private readonly store: ControlStore,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Replaces the view with a fresh listing from the store. Entries this process wrote while the listing
   * ran are newer than what it returned and are kept, so a refresh never rolls back our own writes.
   */
  async refresh(): Promise<void> {
    const startedAt = this.writes;
    const listed = await this.store.listWorkers();
    const next = new Map(listed.map((worker) => [keyOfWorker(worker), worker]));
    for (const [key, seq] of this.writtenAt) {
      if (seq <= startedAt) {
        this.writtenAt.delete(key);
        continue;
      }
      const mine = this.workers.get(key);
      const theirs = next.get(key);
      if (mine && (!theirs || theirs.version <= mine.version)) next.set(key, mine);
      if (!mine) next.delete(key);
    }
    const newlyFree = [...next.values()].filter((worker) => {
      const before = this.workers.get(keyOfWorker(worker));
      return this.isUsable(worker) && (!before || !this.isUsable(before));
    });
    this.workers = next;
    for (const worker of newlyFree) this.emitFree(worker);
  }

  /** Re-reads one worker from the store (after a lost compare-and-set). */
  async reload(worker: ateapi.Worker): Promise<ateapi.Worker | undefined> {
    const fresh = await this.store.getWorker(worker.workerNamespace, worker.workerPool, worker.workerPod);
    if (fresh) this.update(fresh);
    else this.workers.delete(keyOfWorker(worker));
    return fresh;
  }

  /** Records a worker this process just wrote. */
  update(worker: ateapi.Worker): void {
    const key = keyOfWorker(worker);
    const before = this.workers.get(key);
    if (before && before.version > worker.version) return;
    this.writtenAt.set(key, ++this.writes);
    this.workers.set(key, worker);
    if (this.isUsable(worker) && (!before || !this.isUsable(before))) this.emitFree(worker);
  }

  /** Forgets a worker this process just deleted. */
  remove(worker: ateapi.Worker): void {
    this.workers.delete(keyOfWorker(worker));
    this.writtenAt.set(keyOfWorker(worker), ++this.writes);
  }

  all(): ateapi.Worker[] {
    return [...this.workers.values()];
  }

  get(namespace: string, pool: string, pod: string): ateapi.Worker | undefined {
    return this.workers.get(workerKey(namespace, pool, pod));
  }

  /** The worker claimed by an actor, if any. */
  claimOf(atespace: string, actorId: string): ateapi.Worker | undefined {
    for (const worker of this.workers.values()) if (isClaimedBy(worker, atespace, actorId)) return worker;
    return undefined;
  }

  /** Free workers with a live lease that satisfy `accept`. */
  freeWorkers(accept: (worker: ateapi.Worker) => boolean): ateapi.Worker[] {
    const out: ateapi.Worker[] = [];
    for (const worker of this.workers.values()) if (this.isUsable(worker) && accept(worker)) out.push(worker);
    return out;
  }

  /**
   * A free worker with a live lease that satisfies `accept`, chosen uniformly at random among them
   * (reservoir sampling: one pass, no list built); undefined when there is none.
   */
  randomFree(
    accept: (worker: ateapi.Worker) => boolean,
    random: () => number = Math.random,
  ): ateapi.Worker | undefined {
    const now = this.now();
    let chosen: ateapi.Worker | undefined;
    let seen = 0;
    for (const worker of this.workers.values()) {
      if (worker.actorId !== '' || (worker.leaseExpiresUnixMs > 0 && worker.leaseExpiresUnixMs <= now))
        continue;
      if (!accept(worker)) continue;
      seen++;
      if (random() * seen < 1) chosen = worker;
    }
    return chosen;
  }

  /** Whether a worker's lease has run out. */
  isExpired(worker: ateapi.Worker): boolean {
    return worker.leaseExpiresUnixMs > 0 && worker.leaseExpiresUnixMs <= this.now();
  }

  /** Calls `listener` whenever a worker becomes free; returns the unsubscribe function. */
  onFree(listener: (worker: ateapi.Worker) => void): () => void {
    this.freeListeners.add(listener);
    return () => this.freeListeners.delete(listener);
  }

  private isUsable(worker: ateapi.Worker): boolean {
    return worker.actorId === '' && !this.isExpired(worker);
  }

  private emitFree(worker: ateapi.Worker): void {
    for (const listener of this.freeListeners) listener(worker);
  }
}
