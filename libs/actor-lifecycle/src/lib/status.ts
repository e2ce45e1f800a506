/**
 * Actor statuses. The numeric values are upstream's `ateapi.Actor.Status` enum values (wire-compatible).
 */
export enum ActorStatus {
  UNSPECIFIED = 0,
  RESUMING = 1,
  RUNNING = 2,
  SUSPENDING = 3,
  SUSPENDED = 4,
  PAUSING = 5,
  PAUSED = 6,
}

/** The pseudo-state of an actor that has no record (before CreateActor, after DeleteActor). */
export const ABSENT = 'ABSENT' as const;
export type Absent = typeof ABSENT;

/** A lifecycle state: a real status, or absent. `UNSPECIFIED` is never a legal state of a stored actor. */
export type LifecycleState = Exclude<ActorStatus, ActorStatus.UNSPECIFIED> | Absent;

/** Every state of the lifecycle, absent first. */
export const LIFECYCLE_STATES: readonly LifecycleState[] = [
  ABSENT,
  ActorStatus.SUSPENDED,
  ActorStatus.RESUMING,
  ActorStatus.RUNNING,
  ActorStatus.SUSPENDING,
  ActorStatus.PAUSING,
  ActorStatus.PAUSED,
];

/** The wire name of a status (`STATUS_RUNNING`), as upstream prints it in errors and kubectl output. */
export function statusName(status: ActorStatus | Absent): string {
  if (status === ABSENT) return ABSENT;
  const name = ActorStatus[status] as string | undefined;
  return name === undefined ? `STATUS_UNKNOWN(${String(status)})` : `STATUS_${name}`;
}

/** Parses `STATUS_RUNNING` / `RUNNING` / `running` into a status; undefined when unknown. */
export function parseStatus(text: string): ActorStatus | undefined {
  const key = text
    .trim()
    .toUpperCase()
    .replace(/^STATUS_/, '');
  const value = (ActorStatus as unknown as Record<string, ActorStatus | undefined>)[key];
  return typeof value === 'number' ? value : undefined;
}

/** Statuses an actor rests in between operations. */
export function isSettled(state: LifecycleState): boolean {
  return state === ActorStatus.RUNNING || state === ActorStatus.SUSPENDED || state === ActorStatus.PAUSED;
}

/** Statuses an operation is in the middle of; an actor stuck here is what recovery looks for. */
export function isTransient(state: LifecycleState): boolean {
  return state === ActorStatus.RESUMING || state === ActorStatus.SUSPENDING || state === ActorStatus.PAUSING;
}

/** Statuses in which the actor holds a worker claim. */
export function holdsWorker(state: LifecycleState): boolean {
  return isTransient(state) || state === ActorStatus.RUNNING;
}
