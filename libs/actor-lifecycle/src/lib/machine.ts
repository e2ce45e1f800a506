import { ABSENT, LIFECYCLE_STATES, isSettled, isTransient, statusName, type LifecycleState } from './status';
import {
  GUARDS,
  LIFECYCLE_EVENTS,
  TRANSITIONS,
  type LifecycleEvent,
  type Transition,
  type TransitionFacts,
} from './transitions';

/** Thrown when an event does not apply to an actor's current state. */
export class IllegalTransitionError extends Error {
  readonly code = 'ILLEGAL_TRANSITION';

  constructor(
    readonly from: LifecycleState,
    readonly event: LifecycleEvent,
  ) {
    super(`event ${event} is not allowed in state ${statusName(from)}`);
    this.name = 'IllegalTransitionError';
  }
}

function rowsFor(table: readonly Transition[], from: LifecycleState, event: LifecycleEvent): Transition[] {
  return table.filter((t) => t.from === from && t.event === event);
}

function guardsHold(row: Transition, facts: TransitionFacts): boolean {
  return (row.guards ?? []).every((g) => GUARDS[g](facts));
}

/** The state `event` leads to from `from` given `facts`, or undefined when it does not apply. */
export function nextState(
  from: LifecycleState,
  event: LifecycleEvent,
  facts: TransitionFacts = {},
  table: readonly Transition[] = TRANSITIONS,
): LifecycleState | undefined {
  return rowsFor(table, from, event).find((row) => guardsHold(row, facts))?.to;
}

/** Like {@link nextState} but throws {@link IllegalTransitionError} when the event does not apply. */
export function transition(
  from: LifecycleState,
  event: LifecycleEvent,
  facts: TransitionFacts = {},
): LifecycleState {
  const to = nextState(from, event, facts);
  if (to === undefined) throw new IllegalTransitionError(from, event);
  return to;
}

/** Whether any event (under some facts) moves an actor from `from` to `to`. */
export function canTransition(from: LifecycleState, to: LifecycleState): boolean {
  return TRANSITIONS.some((t) => t.from === from && t.to === to);
}

/** Events that apply in `from` under at least some facts. */
export function eventsFrom(from: LifecycleState): LifecycleEvent[] {
  return LIFECYCLE_EVENTS.filter((e) => rowsFor(TRANSITIONS, from, e).length > 0);
}

/** Every state reachable from `start` (including itself), ignoring guards. */
export function reachableFrom(
  start: LifecycleState,
  table: readonly Transition[] = TRANSITIONS,
): Set<LifecycleState> {
  const seen = new Set<LifecycleState>([start]);
  const queue: LifecycleState[] = [start];
  for (let state = queue.shift(); state !== undefined; state = queue.shift()) {
    for (const row of table) {
      if (row.from === state && !seen.has(row.to)) {
        seen.add(row.to);
        queue.push(row.to);
      }
    }
  }
  return seen;
}

/** Every combination of the facts guards read. */
export const ALL_FACTS: readonly TransitionFacts[] = [false, true].flatMap((checkpointCommitted) =>
  [false, true].map((workloadRunning) => ({ checkpointCommitted, workloadRunning })),
);

/**
 * Checks a transition table for the properties the control plane relies on and returns every violation
 * (empty when sound):
 * - every state is reachable from ABSENT;
 * - from every state a settled state (RUNNING, SUSPENDED, PAUSED) and ABSENT (deletion) are reachable;
 * - every transient state has a recovery and a lost-worker transition for every combination of facts;
 * - no row is shadowed by an earlier unguarded row of the same (from, event).
 */
export function checkLifecycle(table: readonly Transition[] = TRANSITIONS): string[] {
  const problems: string[] = [];
  const fromAbsent = reachableFrom(ABSENT, table);
  for (const state of LIFECYCLE_STATES) {
    const name = statusName(state);
    if (!fromAbsent.has(state)) problems.push(`${name} is unreachable from ABSENT`);
    const onward = reachableFrom(state, table);
    if (![...onward].some((s) => s !== ABSENT && isSettled(s))) problems.push(`${name} never settles`);
    if (!onward.has(ABSENT)) problems.push(`${name} can never be deleted`);
    if (isTransient(state)) {
      for (const event of ['recover', 'workerLost'] as const) {
        for (const facts of ALL_FACTS) {
          if (nextState(state, event, facts, table) === undefined) {
            problems.push(`${name} has no ${event} transition for ${JSON.stringify(facts)}`);
          }
        }
      }
    }
  }
  for (const state of LIFECYCLE_STATES) {
    for (const event of LIFECYCLE_EVENTS) {
      const rows = rowsFor(table, state, event);
      const firstUnguarded = rows.findIndex((r) => (r.guards ?? []).length === 0);
      if (firstUnguarded !== -1 && firstUnguarded < rows.length - 1) {
        problems.push(`${statusName(state)} --${event}--> has rows shadowed by an unguarded row`);
      }
    }
  }
  return problems;
}
