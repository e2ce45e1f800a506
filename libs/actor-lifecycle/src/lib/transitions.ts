import { ABSENT, ActorStatus, type LifecycleState } from './status';

const { RESUMING, RUNNING, SUSPENDING, SUSPENDED, PAUSING, PAUSED } = ActorStatus;

/**
 * What happens to an actor. Each event is one persisted step of a workflow (or a store operation), so the
 * control plane asks the table before every write.
 */
export type LifecycleEvent =
  /** CreateActor stores a new record. */
  | 'create'
  /** Resume, step AssignWorker: a free worker is claimed for the actor. */
  | 'assignWorker'
  /** Resume, step FinalizeRunning: the worker restored (or booted) the actor and it answers. */
  | 'resumeSucceeded'
  /** Suspend, step MarkSuspending: an external checkpoint begins. */
  | 'markSuspending'
  /** Suspend, step FinalizeSuspended: the snapshot's manifest is committed and the worker is freed. */
  | 'suspendCommitted'
  /** Pause, step MarkPausing: a node-local checkpoint begins. */
  | 'markPausing'
  /** Pause, step FinalizePaused: the local checkpoint is complete and the worker is freed. */
  | 'pauseCommitted'
  /** DeleteActor removes the record. */
  | 'delete'
  /** The actor's worker is gone (lease expired, pod deleted): reset to the last committed snapshot. */
  | 'workerLost'
  /** The recovery loop found the actor stuck in a transient status beyond its deadline. */
  | 'recover';

export const LIFECYCLE_EVENTS: readonly LifecycleEvent[] = [
  'create',
  'assignWorker',
  'resumeSucceeded',
  'markSuspending',
  'suspendCommitted',
  'markPausing',
  'pauseCommitted',
  'delete',
  'workerLost',
  'recover',
];

/**
 * Facts the control plane knows when it applies an event; guards read them. Only recovery needs them: every
 * other transition is unconditional.
 */
export interface TransitionFacts {
  /** The in-progress checkpoint was committed (its manifest exists). */
  checkpointCommitted?: boolean;
  /** The worker is alive and reports the actor's workload running. */
  workloadRunning?: boolean;
}

export type GuardName = 'checkpointCommitted' | 'workloadRunning' | 'checkpointNotCommitted';

/** Guards, by name, so the table stays plain data. */
export const GUARDS: Readonly<Record<GuardName, (facts: TransitionFacts) => boolean>> = {
  checkpointCommitted: (f) => f.checkpointCommitted === true,
  checkpointNotCommitted: (f) => f.checkpointCommitted !== true,
  workloadRunning: (f) => f.workloadRunning === true,
};

export interface Transition {
  readonly from: LifecycleState;
  readonly event: LifecycleEvent;
  readonly to: LifecycleState;
  /** All named guards must hold. Rows for the same (from, event) are tried in table order; first match wins. */
  readonly guards?: readonly GuardName[];
  /** Whether upstream has this transition, or it is one we add (recovery). */
  readonly origin: 'upstream' | 'recovery';
  readonly why: string;
}

/**
 * The complete lifecycle, as data. Upstream's transitions (control-plane reference §3.2) plus the recovery
 * transitions we add so that no actor stays stuck in a transient status after a crash.
 */
export const TRANSITIONS: readonly Transition[] = [
  { from: ABSENT, event: 'create', to: SUSPENDED, origin: 'upstream', why: 'a new actor starts suspended' },

  // Resume. Claiming a worker is also allowed from the transient statuses: a crashed checkpoint is resumed
  // from the previous committed snapshot on the same worker (upstream behaviour).
  ...([SUSPENDED, PAUSED, RESUMING, SUSPENDING, PAUSING] as const).map((from): Transition => ({
    from,
    event: 'assignWorker',
    to: RESUMING,
    origin: 'upstream',
    why: 'resume claims a worker',
  })),
  { from: RESUMING, event: 'resumeSucceeded', to: RUNNING, origin: 'upstream', why: 'restore or boot done' },

  // Suspend: external (durable) checkpoint.
  { from: RUNNING, event: 'markSuspending', to: SUSPENDING, origin: 'upstream', why: 'checkpoint begins' },
  {
    from: SUSPENDING,
    event: 'suspendCommitted',
    to: SUSPENDED,
    origin: 'upstream',
    why: 'snapshot committed, worker freed',
  },

  // Pause: node-local checkpoint.
  { from: RUNNING, event: 'markPausing', to: PAUSING, origin: 'upstream', why: 'local checkpoint begins' },
  { from: PAUSING, event: 'pauseCommitted', to: PAUSED, origin: 'upstream', why: 'local checkpoint kept' },

  {
    from: SUSPENDED,
    event: 'delete',
    to: ABSENT,
    origin: 'upstream',
    why: 'only a suspended actor is deleted',
  },

  // A dead worker resets any actor that holds it to its last committed snapshot.
  ...([RESUMING, RUNNING, SUSPENDING, PAUSING] as const).map((from): Transition => ({
    from,
    event: 'workerLost',
    to: SUSPENDED,
    origin: 'upstream',
    why: 'worker gone: back to the last committed snapshot',
  })),

  // Recovery of actors stuck in a transient status (ateapi crashed, deadline passed). Guards decide.
  {
    from: RESUMING,
    event: 'recover',
    to: RUNNING,
    guards: ['workloadRunning'],
    origin: 'recovery',
    why: 'the restore finished after all: keep it',
  },
  {
    from: RESUMING,
    event: 'recover',
    to: SUSPENDED,
    origin: 'recovery',
    why: 'restore never finished: release the worker, keep the last committed snapshot',
  },
  {
    from: SUSPENDING,
    event: 'recover',
    to: SUSPENDED,
    guards: ['checkpointCommitted'],
    origin: 'recovery',
    why: 'the new snapshot was committed: adopt it and free the worker',
  },
  {
    from: SUSPENDING,
    event: 'recover',
    to: RUNNING,
    guards: ['checkpointNotCommitted', 'workloadRunning'],
    origin: 'recovery',
    why: 'checkpoint failed but the sandbox still runs: nothing lost, back to running',
  },
  {
    from: SUSPENDING,
    event: 'recover',
    to: SUSPENDED,
    origin: 'recovery',
    why: 'checkpoint lost with its sandbox: back to the previous committed snapshot',
  },
  {
    from: PAUSING,
    event: 'recover',
    to: PAUSED,
    guards: ['checkpointCommitted'],
    origin: 'recovery',
    why: 'the local checkpoint completed: adopt it and free the worker',
  },
  {
    from: PAUSING,
    event: 'recover',
    to: RUNNING,
    guards: ['checkpointNotCommitted', 'workloadRunning'],
    origin: 'recovery',
    why: 'local checkpoint failed but the sandbox still runs: back to running',
  },
  {
    from: PAUSING,
    event: 'recover',
    to: SUSPENDED,
    origin: 'recovery',
    why: 'local checkpoint lost with its sandbox: back to the last committed snapshot',
  },
];
