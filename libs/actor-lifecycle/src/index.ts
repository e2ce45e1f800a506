export {
  ABSENT,
  ActorStatus,
  LIFECYCLE_STATES,
  holdsWorker,
  isSettled,
  isTransient,
  parseStatus,
  statusName,
  type Absent,
  type LifecycleState,
} from './lib/status';
export {
  GUARDS,
  LIFECYCLE_EVENTS,
  TRANSITIONS,
  type GuardName,
  type LifecycleEvent,
  type Transition,
  type TransitionFacts,
} from './lib/transitions';
export {
  ALL_FACTS,
  IllegalTransitionError,
  canTransition,
  checkLifecycle,
  eventsFrom,
  nextState,
  reachableFrom,
  transition,
} from './lib/machine';
