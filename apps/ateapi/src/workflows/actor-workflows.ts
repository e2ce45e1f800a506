import { Logger } from '@nestjs/common';
import {
  type LifecycleEvent,
  type LifecycleState,
  type TransitionFacts,
  transition,
} from '@substrate/actor-lifecycle';
import type { ActorTemplate } from '@substrate/api';
import { ateapi, atelet } from '@substrate/proto';
import type { AteletPort } from '../atelet/atelet-port';
import type { Catalog } from '../catalog/catalog';
import { ControlError, internal, notFound } from '../errors/control-error';
import type { Scheduler } from '../scheduler/scheduler';
import type { ControlStore, LockHandle } from '../store/control-store';
import { isClaimedBy, type WorkerDirectory } from '../workers/worker-directory';
import { externalSnapshotPrefix, localSnapshotPrefix } from './snapshot-names';
import { sandboxAssetsOf, workloadSpecOf } from './workload-spec';

export interface WorkflowOptions {
  /** TTL of the per-actor lock. */
  readonly lockTtlMs: number;
  /** Deadline of one workflow; shorter than the lock TTL so a workflow never outlives its lock. */
  readonly deadlineMs: number;
}

/** Answers whether a snapshot at a prefix was committed (its manifest exists). */
export interface SnapshotProbe {
  isCommitted(snapshotUriPrefix: string): Promise<boolean>;
}

/** What a workflow step sees: the lock it holds, the actor as last written, and its deadline. */
interface Run {
  readonly lock: LockHandle;
  actor: ateapi.Actor;
  readonly deadline: number;
  released: boolean;
}

const {
  STATUS_RESUMING: RESUMING,
  STATUS_RUNNING: RUNNING,
  STATUS_SUSPENDING: SUSPENDING,
  STATUS_SUSPENDED: SUSPENDED,
  STATUS_PAUSING: PAUSING,
  STATUS_PAUSED: PAUSED,
} = ateapi.Actor_Status;

/** What differs between Suspend (`external`) and Pause (`local`). */
const CHECKPOINT_KINDS = {
  external: {
    settled: SUSPENDED,
    otherTransient: PAUSING,
    transientName: 'SUSPENDING',
    markEvent: 'markSuspending',
    commitEvent: 'suspendCommitted',
  },
  local: {
    settled: PAUSED,
    otherTransient: SUSPENDING,
    transientName: 'PAUSING',
    markEvent: 'markPausing',
    commitEvent: 'pauseCommitted',
  },
} as const;

export const LOCK_BUSY_MESSAGE = 'another operation is in progress for this actor';

/**
 * The Resume, Suspend and Pause workflows. Each runs under the actor's lock with a deadline, and each
 * step first checks whether it is already done against the freshly read actor, so repeating an RPC
 * after a crash or a failure picks up where the previous attempt stopped. Every actor write is fenced
 * by the lock token: a workflow that outlived its lock cannot write.
 *
 * Write order across slots: claim the worker, then point the actor at it; on the way out, release the
 * actor first and the worker second. A crash in between leaves a worker claimed by an actor that does
 * not point at it, which the recovery loop releases after a grace period; never an actor pointing at a
 * worker someone else holds.
 */
export class ActorWorkflows {
  private readonly logger = new Logger(ActorWorkflows.name);
  private readonly inFlight = new Set<Promise<unknown>>();
  private draining = false;

  constructor(
    private readonly store: ControlStore,
    private readonly directory: WorkerDirectory,
    private readonly scheduler: Scheduler,
    private readonly catalog: Catalog,
    private readonly atelet: AteletPort,
    private readonly snapshots: SnapshotProbe,
    private readonly options: WorkflowOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** ResumeActor: makes the actor RUNNING on a worker. */
  resume(atespace: string, actorId: string, boot: boolean): Promise<ateapi.Actor> {
    return this.locked(atespace, actorId, async (run) => {
      if (run.actor.status === RUNNING) return run.actor;
      const template = this.templateOf(run.actor);
      const worker = await this.assignWorker(run, template);
      await this.callAteletRestore(run, template, worker, boot);
      return this.write(run, { ...run.actor, status: this.next(run.actor, 'resumeSucceeded') }, true);
    });
  }

  /** SuspendActor: checkpoints to object storage and frees the worker. */
  suspend(atespace: string, actorId: string): Promise<ateapi.Actor> {
    return this.checkpointWorkflow(atespace, actorId, 'external');
  }

  /** PauseActor: checkpoints to the node's disk and frees the worker. */
  pause(atespace: string, actorId: string): Promise<ateapi.Actor> {
    return this.checkpointWorkflow(atespace, actorId, 'local');
  }

  /**
   * Suspend (`external`) and Pause (`local`): mark the actor SUSPENDING / PAUSING with a fresh snapshot
   * location, checkpoint on its worker, then commit the snapshot and free the worker. A no-op when
   * already settled there; upstream's errors when settled in the other status; an actor stuck in a
   * transient status is recovered.
   */
  private checkpointWorkflow(
    atespace: string,
    actorId: string,
    kind: 'external' | 'local',
  ): Promise<ateapi.Actor> {
    const k = CHECKPOINT_KINDS[kind];
    return this.locked(atespace, actorId, async (run) => {
      if (run.actor.status === k.settled && !run.actor.ateomPodName) return run.actor;
      if (run.actor.status === PAUSED || run.actor.status === SUSPENDED) {
        throw internal(`actor is in ${k.transientName} state but has no active worker`);
      }
      if (run.actor.status === RESUMING || run.actor.status === k.otherTransient) {
        return this.recoverLocked(run);
      }
      const template = this.templateOf(run.actor);
      let marking: Promise<unknown> | undefined;
      if (run.actor.status === RUNNING) {
        const prefix =
          kind === 'external'
            ? externalSnapshotPrefix(template.spec.snapshotsConfig.location, atespace, actorId, this.now())
            : localSnapshotPrefix(actorId, this.now());
        marking = this.write(run, {
          ...run.actor,
          status: this.next(run.actor, k.markEvent),
          inProgressSnapshot: prefix,
        });
      }
      // The worker is read in the same round trip as the SUSPENDING/PAUSING write: under the actor's lock
      // the write does not change what the read sees (the worker fields stay as they are).
      const [worker] = await Promise.all([this.workerOf(run.actor), marking]);
      if (worker) {
        await this.atelet.checkpoint(
          worker.ateletEndpoint,
          this.checkpointRequest(run.actor, template, worker, kind),
          new Date(run.deadline),
        );
      }
      return this.finishCheckpoint(run, k.commitEvent, worker);
    });
  }

  /**
   * Drives an actor stuck in RESUMING, SUSPENDING or PAUSING (its workflow crashed or timed out) to a
   * settled status, if no workflow holds its lock. A checkpoint in progress is first retried (the
   * sandbox may still be running); if that fails, an in-progress snapshot whose manifest exists is
   * adopted, and otherwise the actor falls back to its last committed snapshot. Returns the actor as
   * left, or undefined when it was busy or gone.
   */
  async recover(atespace: string, actorId: string): Promise<ateapi.Actor | undefined> {
    const locked = await this.store.lockActor(atespace, actorId, this.options.lockTtlMs);
    if (locked === undefined || locked === 'busy') return undefined;
    const run: Run = {
      lock: locked.lock,
      actor: locked.actor,
      deadline: this.now() + this.options.deadlineMs,
      released: false,
    };
    try {
      const { status } = run.actor;
      if (status === SUSPENDING || status === PAUSING) {
        const worker = await this.workerOf(run.actor);
        const template = this.catalog.getTemplate(
          run.actor.actorTemplateNamespace,
          run.actor.actorTemplateName,
        );
        if (worker && template && run.actor.inProgressSnapshot) {
          try {
            const kind = status === SUSPENDING ? 'external' : 'local';
            await this.atelet.checkpoint(
              worker.ateletEndpoint,
              this.checkpointRequest(run.actor, template, worker, kind),
              new Date(run.deadline),
            );
            return await this.finishCheckpoint(
              run,
              status === SUSPENDING ? 'suspendCommitted' : 'pauseCommitted',
              worker,
            );
          } catch (error) {
            this.logger.warn({
              message: 'retrying the checkpoint failed; recovering without it',
              actor: `${atespace}/${actorId}`,
              error: String(error),
            });
          }
        }
      }
      if (status === RESUMING || status === SUSPENDING || status === PAUSING)
        return await this.recoverLocked(run);
      return run.actor;
    } finally {
      if (!run.released) await this.store.unlockActor(run.lock).catch(() => undefined);
    }
  }

  /**
   * Resets an actor whose worker is gone (lease expired, atelet stopped reporting it) to its last
   * committed snapshot. Skipped while a workflow holds the actor's lock (it will fail on its own and
   * the next pass retries); returns whether the actor was reset.
   */
  async workerLost(worker: ateapi.Worker): Promise<boolean> {
    if (!worker.actorId) return true;
    const locked = await this.store.lockActor(worker.actorAtespace, worker.actorId, this.options.lockTtlMs);
    if (locked === undefined) return true;
    if (locked === 'busy') return false;
    const run: Run = {
      lock: locked.lock,
      actor: locked.actor,
      deadline: this.now() + this.options.deadlineMs,
      released: false,
    };
    try {
      const actor = run.actor;
      if (
        actor.ateomPodNamespace === worker.workerNamespace &&
        actor.ateomPodName === worker.workerPod &&
        actor.workerPoolName === worker.workerPool
      ) {
        await this.write(
          run,
          { ...this.withoutWorker(actor), status: this.next(actor, 'workerLost'), inProgressSnapshot: '' },
          true,
        );
        this.logger.warn({
          message: 'worker lost: actor reset to its last committed snapshot',
          actor: `${actor.atespace}/${actor.actorId}`,
          worker: worker.workerPod,
        });
      }
      return true;
    } finally {
      if (!run.released) await this.store.unlockActor(run.lock).catch(() => undefined);
    }
  }

  /**
   * Releases a worker claimed by an actor that does not point back at it (a resume that crashed between
   * claiming the worker and recording it on the actor), checked under the actor's lock so a resume that
   * is completing right now is never undercut. Returns whether the claim was released.
   */
  async releaseOrphanClaim(worker: ateapi.Worker): Promise<boolean> {
    const locked = await this.store.lockActor(worker.actorAtespace, worker.actorId, this.options.lockTtlMs);
    if (locked === 'busy') return false;
    try {
      const actor = locked?.actor;
      const pointsBack =
        actor !== undefined &&
        actor.ateomPodNamespace === worker.workerNamespace &&
        actor.workerPoolName === worker.workerPool &&
        actor.ateomPodName === worker.workerPod;
      if (pointsBack) return false;
      await this.scheduler.release(worker, worker.actorAtespace, worker.actorId);
      return true;
    } finally {
      if (locked) await this.store.unlockActor(locked.lock).catch(() => undefined);
    }
  }

  // ---- steps ----------------------------------------------------------------------------------

  private async assignWorker(run: Run, template: ActorTemplate): Promise<ateapi.Worker> {
    const current = await this.workerOf(run.actor);
    if (run.actor.status === RESUMING && current) return current;
    const pools = this.scheduler.eligiblePools(this.catalog.listPools(), template, run.actor.workerSelector);
    const info = run.actor.latestSnapshotInfo;
    const nodes = info?.data?.$case === 'local' ? info.data.value.nodeVmsWithLocalSnapshots : undefined;
    const worker = await this.scheduler.claim({
      actor: run.actor,
      template,
      pools,
      nodes,
      deadline: run.deadline,
    });
    try {
      await this.write(run, {
        ...run.actor,
        status: this.next(run.actor, 'assignWorker'),
        ateomPodNamespace: worker.workerNamespace,
        ateomPodName: worker.workerPod,
        ateomPodIp: worker.ip,
        ateomPodPort: worker.httpPort,
        ateomPodUid: worker.workerPodUid,
        workerPoolName: worker.workerPool,
      });
    } catch (error) {
      await this.scheduler.release(worker, run.actor.atespace, run.actor.actorId).catch(() => undefined);
      throw error;
    }
    return worker;
  }

  private async callAteletRestore(
    run: Run,
    template: ActorTemplate,
    worker: ateapi.Worker,
    boot: boolean,
  ): Promise<void> {
    const { actor } = run;
    const base = {
      targetAteomUid: worker.workerPodUid,
      actorTemplateNamespace: actor.actorTemplateNamespace,
      actorTemplateName: actor.actorTemplateName,
      actorId: actor.actorId,
      actorAtespace: actor.atespace,
      spec: workloadSpecOf(template),
    };
    const deadline = new Date(run.deadline);
    const info = actor.latestSnapshotInfo;
    const { onPause, onCommit } = template.spec.snapshotsConfig;
    if (info?.data?.$case === 'external') {
      await this.atelet.restore(
        worker.ateletEndpoint,
        {
          ...base,
          type: atelet.CheckpointType.CHECKPOINT_TYPE_EXTERNAL,
          config: {
            $case: 'externalConfig',
            value: { snapshotUriPrefix: info.data.value.snapshotUriPrefix },
          },
          scope: scopeOf(onCommit),
        },
        deadline,
      );
    } else if (info?.data?.$case === 'local') {
      await this.atelet.restore(
        worker.ateletEndpoint,
        {
          ...base,
          type: atelet.CheckpointType.CHECKPOINT_TYPE_LOCAL,
          config: { $case: 'localConfig', value: { snapshotPrefix: info.data.value.snapshotPrefix } },
          scope: scopeOf(onPause),
        },
        deadline,
      );
    } else if (template.status?.goldenSnapshot && !boot) {
      await this.atelet.restore(
        worker.ateletEndpoint,
        {
          ...base,
          type: atelet.CheckpointType.CHECKPOINT_TYPE_EXTERNAL,
          config: { $case: 'externalConfig', value: { snapshotUriPrefix: template.status.goldenSnapshot } },
          scope: scopeOf(onCommit),
        },
        deadline,
      );
    } else {
      const pool = this.catalog.getPool(worker.workerNamespace, worker.workerPool);
      await this.atelet.run(
        worker.ateletEndpoint,
        { ...base, sandboxAssets: sandboxAssetsOf(template, pool, this.catalog.listSandboxConfigs()) },
        deadline,
      );
    }
  }

  private checkpointRequest(
    actor: ateapi.Actor,
    template: ActorTemplate,
    worker: ateapi.Worker,
    kind: 'external' | 'local',
  ): atelet.CheckpointRequest {
    const { snapshotsConfig } = template.spec;
    return {
      targetAteomUid: worker.workerPodUid,
      actorTemplateNamespace: actor.actorTemplateNamespace,
      actorTemplateName: actor.actorTemplateName,
      actorId: actor.actorId,
      actorAtespace: actor.atespace,
      spec: undefined,
      ...(kind === 'external'
        ? {
            type: atelet.CheckpointType.CHECKPOINT_TYPE_EXTERNAL,
            config: { $case: 'externalConfig', value: { snapshotUriPrefix: actor.inProgressSnapshot } },
            scope: scopeOf(snapshotsConfig.onCommit),
          }
        : {
            type: atelet.CheckpointType.CHECKPOINT_TYPE_LOCAL,
            config: { $case: 'localConfig', value: { snapshotPrefix: actor.inProgressSnapshot } },
            scope: scopeOf(snapshotsConfig.onPause),
          }),
    };
  }

  /**
   * Promotes the in-progress snapshot (when it was written: `worker` is the worker that checkpointed
   * it, as read from the store under the actor's lock before the checkpoint), releases the actor,
   * then its worker. No second read: the lock keeps the worker claimed by this actor, and a release
   * that finds the record changed re-reads it (compare-and-set) before freeing it.
   */
  private async finishCheckpoint(
    run: Run,
    event: 'suspendCommitted' | 'pauseCommitted',
    worker: ateapi.Worker | undefined,
  ): Promise<ateapi.Actor> {
    const actor = run.actor;
    const written = worker !== undefined;
    let latest = actor.latestSnapshotInfo;
    if (written && actor.inProgressSnapshot) {
      latest =
        event === 'suspendCommitted'
          ? {
              type: ateapi.SnapshotType.SNAPSHOT_TYPE_EXTERNAL,
              data: { $case: 'external', value: { snapshotUriPrefix: actor.inProgressSnapshot } },
            }
          : {
              type: ateapi.SnapshotType.SNAPSHOT_TYPE_LOCAL,
              data: {
                $case: 'local',
                value: {
                  snapshotPrefix: actor.inProgressSnapshot,
                  nodeVmsWithLocalSnapshots: [worker?.nodeName ?? ''],
                },
              },
            };
    }
    const status = written ? this.next(actor, event) : this.next(actor, 'workerLost');
    const stored = await this.write(
      run,
      { ...this.withoutWorker(actor), status, inProgressSnapshot: '', latestSnapshotInfo: latest },
      true,
    );
    if (worker) await this.scheduler.release(worker, actor.atespace, actor.actorId);
    return stored;
  }

  /** The `recover` transition for a stuck actor whose checkpoint (if any) cannot be retried. */
  private async recoverLocked(run: Run): Promise<ateapi.Actor> {
    const actor = run.actor;
    const facts: TransitionFacts = { workloadRunning: false, checkpointCommitted: false };
    if (actor.status === SUSPENDING && actor.inProgressSnapshot) {
      facts.checkpointCommitted = await this.snapshots
        .isCommitted(actor.inProgressSnapshot)
        .catch(() => false);
    }
    const status = this.next(actor, 'recover', facts) as ateapi.Actor_Status;
    const worker = await this.workerOf(actor);
    const latest: ateapi.SnapshotInfo | undefined = facts.checkpointCommitted
      ? {
          type: ateapi.SnapshotType.SNAPSHOT_TYPE_EXTERNAL,
          data: { $case: 'external', value: { snapshotUriPrefix: actor.inProgressSnapshot } },
        }
      : actor.latestSnapshotInfo;
    const stored = await this.write(
      run,
      { ...this.withoutWorker(actor), status, inProgressSnapshot: '', latestSnapshotInfo: latest },
      true,
    );
    if (worker) await this.scheduler.release(worker, actor.atespace, actor.actorId);
    this.logger.warn({
      message: `recovered a stuck actor to ${ateapi.actor_StatusToJSON(status)}`,
      actor: `${actor.atespace}/${actor.actorId}`,
      from: ateapi.actor_StatusToJSON(actor.status),
    });
    return stored;
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** Refuses new workflows and waits for the running ones to finish (graceful shutdown). */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private locked(
    atespace: string,
    actorId: string,
    body: (run: Run) => Promise<ateapi.Actor>,
  ): Promise<ateapi.Actor> {
    if (this.draining) {
      return Promise.reject(new ControlError('UNAVAILABLE', 'ateapi is shutting down; please retry'));
    }
    const running = this.lockedRun(atespace, actorId, body);
    this.inFlight.add(running);
    const forget = () => this.inFlight.delete(running);
    running.then(forget, forget);
    return running;
  }

  private async lockedRun(
    atespace: string,
    actorId: string,
    body: (run: Run) => Promise<ateapi.Actor>,
  ): Promise<ateapi.Actor> {
    const locked = await this.store.lockActor(atespace, actorId, this.options.lockTtlMs);
    if (locked === undefined) throw notFound(`Actor ${actorId} not found`);
    if (locked === 'busy') throw new ControlError('ABORTED', LOCK_BUSY_MESSAGE);
    const run: Run = {
      lock: locked.lock,
      actor: locked.actor,
      deadline: this.now() + this.options.deadlineMs,
      released: false,
    };
    try {
      return await body(run);
    } finally {
      if (!run.released) await this.store.unlockActor(run.lock).catch(() => undefined);
    }
  }

  /** Writes the actor (fenced by the run's lock), stamping the status time when the status changes. */
  private async write(run: Run, next: ateapi.Actor, releaseLock = false): Promise<ateapi.Actor> {
    const stamped = next.status === run.actor.status ? next : { ...next, statusChangedUnixMs: this.now() };
    // Routers forget the route before the worker can be freed (that happens after this write): the
    // announcement is published by the write itself.
    const stopsRunning = run.actor.status === RUNNING && stamped.status !== RUNNING;
    run.actor = await this.store.putActor(stamped, run.lock, releaseLock, stopsRunning);
    if (releaseLock) run.released = true;
    return run.actor;
  }

  private next(actor: ateapi.Actor, event: LifecycleEvent, facts?: TransitionFacts): ateapi.Actor_Status {
    const to = transition(actor.status as unknown as LifecycleState, event, facts);
    return to as unknown as ateapi.Actor_Status;
  }

  private templateOf(actor: ateapi.Actor): ActorTemplate {
    const template = this.catalog.getTemplate(actor.actorTemplateNamespace, actor.actorTemplateName);
    if (!template) {
      throw internal(
        `while getting ActorTemplate: ActorTemplate ${actor.actorTemplateNamespace}/${actor.actorTemplateName} not found`,
      );
    }
    return template;
  }

  /**
   * The worker the actor points at, read from the store (not the cache: what follows checkpoints or
   * frees it), if it still exists and is still claimed by the actor.
   */
  private async workerOf(actor: ateapi.Actor): Promise<ateapi.Worker | undefined> {
    if (!actor.ateomPodName) return undefined;
    const worker = await this.store.getWorker(
      actor.ateomPodNamespace,
      actor.workerPoolName,
      actor.ateomPodName,
    );
    if (worker) this.directory.update(worker);
    return worker && isClaimedBy(worker, actor.atespace, actor.actorId) ? worker : undefined;
  }

  private withoutWorker(actor: ateapi.Actor): ateapi.Actor {
    return {
      ...actor,
      ateomPodNamespace: '',
      ateomPodName: '',
      ateomPodIp: '',
      ateomPodPort: 0,
      workerPoolName: '',
    };
  }
}

function scopeOf(scope: string | undefined): atelet.SnapshotScope {
  return scope === 'Data'
    ? atelet.SnapshotScope.SNAPSHOT_SCOPE_DATA
    : atelet.SnapshotScope.SNAPSHOT_SCOPE_FULL;
}
