import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ateapi } from '@substrate/proto';
import type { ControlStore } from '../store/control-store';
import type { ActorWorkflows } from '../workflows/actor-workflows';
import type { Scheduler } from '../scheduler/scheduler';
import type { WorkerDirectory } from '../workers/worker-directory';
import type { WorkerRegistry } from '../workers/worker-registry';

export interface RecoveryOptions {
  /** How often the loop runs. */
  readonly intervalMs: number;
  /** An actor in RESUMING, SUSPENDING or PAUSING for longer than this (and unlocked) is recovered. */
  readonly stuckAfterMs: number;
  /** A worker claim its actor never pointed back to is released after this long. */
  readonly claimGraceMs: number;
}

const TRANSIENT = new Set([
  ateapi.Actor_Status.STATUS_RESUMING,
  ateapi.Actor_Status.STATUS_SUSPENDING,
  ateapi.Actor_Status.STATUS_PAUSING,
]);

/**
 * The background repair loop: refreshes the worker directory, removes workers whose lease ran out
 * (resetting their actors), releases claims whose actor never pointed back at the worker (a resume that
 * crashed between its two writes), and recovers actors stuck in a transient status past a timeout.
 * Only actors holding a worker can be stuck, so it walks the (small) worker set, not every actor.
 */
export class RecoveryLoop implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RecoveryLoop.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: ControlStore,
    private readonly directory: WorkerDirectory,
    private readonly registry: WorkerRegistry,
    private readonly scheduler: Scheduler,
    private readonly workflows: ActorWorkflows,
    private readonly options: RecoveryOptions,
    private readonly now: () => number = Date.now,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; exposed for tests. Returns what it did. */
  async runOnce(): Promise<{ reaped: number; released: number; recovered: number }> {
    await this.directory.refresh();
    const reaped = await this.registry.reapExpired();
    let released = 0;
    let recovered = 0;
    for (const worker of this.directory.all()) {
      if (this.stopped) break;
      if (!worker.actorId) continue;
      const actor = await this.store.getActor(worker.actorAtespace, worker.actorId);
      const pointsBack =
        actor !== undefined &&
        actor.ateomPodNamespace === worker.workerNamespace &&
        actor.workerPoolName === worker.workerPool &&
        actor.ateomPodName === worker.workerPod;
      if (!pointsBack) {
        if (
          this.now() - worker.claimedUnixMs > this.options.claimGraceMs &&
          (await this.workflows.releaseOrphanClaim(worker))
        ) {
          this.logger.warn({
            message: 'released a claim its actor never completed',
            actor: `${worker.actorAtespace}/${worker.actorId}`,
            worker: worker.workerPod,
          });
          released++;
        }
        continue;
      }
      if (TRANSIENT.has(actor.status) && this.now() - actor.statusChangedUnixMs > this.options.stuckAfterMs) {
        if (await this.workflows.recover(actor.atespace, actor.actorId)) recovered++;
      }
    }
    return { reaped, released, recovered };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.logger.error(
            `recovery pass failed: ${error instanceof Error ? error.message : String(error)}`,
          ),
        )
        .finally(() => this.schedule());
    }, this.options.intervalMs);
  }
}
