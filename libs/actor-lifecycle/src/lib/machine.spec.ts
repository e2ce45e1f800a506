import {
  ABSENT,
  ALL_FACTS,
  ActorStatus,
  IllegalTransitionError,
  LIFECYCLE_EVENTS,
  LIFECYCLE_STATES,
  TRANSITIONS,
  canTransition,
  checkLifecycle,
  eventsFrom,
  holdsWorker,
  isSettled,
  nextState,
  parseStatus,
  reachableFrom,
  statusName,
  transition,
  type LifecycleEvent,
  type LifecycleState,
  type Transition,
} from '../index';

const { RESUMING, RUNNING, SUSPENDING, SUSPENDED, PAUSING, PAUSED } = ActorStatus;
const S = SUSPENDED;

/**
 * The expected outcome of every (state, event) pair, written out independently of the implementation.
 * `undefined` = not allowed. For `recover` the entry is keyed by the facts `committed/running`.
 */
type RecoverOutcomes = Record<'--' | 'c-' | '-r' | 'cr', LifecycleState>;
const EXPECTED: Record<string, Partial<Record<LifecycleEvent, LifecycleState | RecoverOutcomes>>> = {
  [ABSENT]: { create: S },
  [SUSPENDED]: { assignWorker: RESUMING, delete: ABSENT },
  [RESUMING]: {
    assignWorker: RESUMING,
    resumeSucceeded: RUNNING,
    workerLost: S,
    recover: { '--': S, 'c-': S, '-r': RUNNING, cr: RUNNING },
  },
  [RUNNING]: { markSuspending: SUSPENDING, markPausing: PAUSING, workerLost: S },
  [SUSPENDING]: {
    assignWorker: RESUMING,
    suspendCommitted: S,
    workerLost: S,
    recover: { '--': S, 'c-': S, '-r': RUNNING, cr: S },
  },
  [PAUSING]: {
    assignWorker: RESUMING,
    pauseCommitted: PAUSED,
    workerLost: S,
    recover: { '--': S, 'c-': PAUSED, '-r': RUNNING, cr: PAUSED },
  },
  [PAUSED]: { assignWorker: RESUMING },
};

function factsKey(f: { checkpointCommitted?: boolean; workloadRunning?: boolean }): keyof RecoverOutcomes {
  return `${f.checkpointCommitted ? 'c' : '-'}${f.workloadRunning ? 'r' : '-'}` as keyof RecoverOutcomes;
}

describe('actor lifecycle: every (state, event, facts) combination', () => {
  const cases = LIFECYCLE_STATES.flatMap((from) =>
    LIFECYCLE_EVENTS.flatMap((event) => ALL_FACTS.map((facts) => ({ from, event, facts }))),
  );

  it.each(cases.map((c) => [statusName(c.from), c.event, factsKey(c.facts), c] as const))(
    '%s --%s--> (facts %s)',
    (_name, _event, _facts, { from, event, facts }) => {
      const entry = EXPECTED[String(from)]?.[event];
      const expected = typeof entry === 'object' ? entry[factsKey(facts)] : entry;
      expect(nextState(from, event, facts)).toBe(expected);
      if (expected === undefined) {
        expect(() => transition(from, event, facts)).toThrow(IllegalTransitionError);
      } else {
        expect(transition(from, event, facts)).toBe(expected);
      }
    },
  );

  it('covers exactly 7 states x 10 events x 4 fact combinations', () => {
    expect(cases).toHaveLength(7 * 10 * 4);
  });
});

describe('the transition table', () => {
  it('is sound: reachable, settles, deletable, total recovery, no shadowed rows', () => {
    expect(checkLifecycle()).toEqual([]);
  });

  it('reports a dead end when a transition is removed', () => {
    const withoutPauseCommit = TRANSITIONS.filter(
      (t) => !(t.event === 'pauseCommitted' || (t.to === PAUSED && t.event === 'recover')),
    );
    expect(checkLifecycle(withoutPauseCommit)).toContain('STATUS_PAUSED is unreachable from ABSENT');
  });

  it('reports a missing recovery path and a shadowed row', () => {
    const broken: Transition[] = [
      ...TRANSITIONS.filter((t) => !(t.from === RESUMING && t.event === 'recover')),
      { from: RESUMING, event: 'recover', to: S, origin: 'recovery', why: 'test' },
      {
        from: RESUMING,
        event: 'recover',
        to: RUNNING,
        guards: ['workloadRunning'],
        origin: 'recovery',
        why: 't',
      },
    ];
    expect(checkLifecycle(broken)).toContain(
      'STATUS_RESUMING --recover--> has rows shadowed by an unguarded row',
    );
    const noRecovery = TRANSITIONS.filter((t) => !(t.from === PAUSING && t.event === 'recover'));
    expect(checkLifecycle(noRecovery)).toContain(
      'STATUS_PAUSING has no recover transition for {"checkpointCommitted":false,"workloadRunning":false}',
    );
  });

  it('never lets a recovery forget a committed checkpoint', () => {
    for (const from of [SUSPENDING, PAUSING] as const) {
      const to = nextState(from, 'recover', { checkpointCommitted: true, workloadRunning: true });
      expect(to).toBe(from === SUSPENDING ? S : PAUSED);
    }
  });

  it('allows delete only from SUSPENDED', () => {
    const deletable = LIFECYCLE_STATES.filter((s) => nextState(s, 'delete') !== undefined);
    expect(deletable).toEqual([S]);
  });

  it('reaches every state from ABSENT, and a paused actor can eventually be deleted', () => {
    expect([...reachableFrom(ABSENT)].sort()).toEqual([...LIFECYCLE_STATES].sort());
    expect(reachableFrom(PAUSED).has(ABSENT)).toBe(true);
  });
});

describe('queries', () => {
  it('canTransition answers from the table', () => {
    expect(canTransition(RUNNING, SUSPENDING)).toBe(true);
    expect(canTransition(SUSPENDED, RUNNING)).toBe(false);
    expect(canTransition(PAUSED, SUSPENDED)).toBe(false);
    expect(canTransition(SUSPENDING, RUNNING)).toBe(true);
  });

  it('lists the events of a state', () => {
    expect(eventsFrom(RUNNING)).toEqual(['markSuspending', 'markPausing', 'workerLost']);
    expect(eventsFrom(ABSENT)).toEqual(['create']);
  });

  it('names statuses as upstream prints them, and parses them back', () => {
    expect(statusName(RUNNING)).toBe('STATUS_RUNNING');
    expect(statusName(ActorStatus.UNSPECIFIED)).toBe('STATUS_UNSPECIFIED');
    expect(statusName(42 as ActorStatus)).toBe('STATUS_UNKNOWN(42)');
    expect(parseStatus('STATUS_PAUSED')).toBe(PAUSED);
    expect(parseStatus('suspended')).toBe(S);
    expect(parseStatus('SLEEPING')).toBeUndefined();
  });

  it('keeps upstream numeric values', () => {
    expect([ActorStatus.UNSPECIFIED, RESUMING, RUNNING, SUSPENDING, S, PAUSING, PAUSED]).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ]);
  });

  it('knows which states settle and which hold a worker', () => {
    expect(LIFECYCLE_STATES.filter(isSettled)).toEqual([S, RUNNING, PAUSED]);
    expect(LIFECYCLE_STATES.filter(holdsWorker)).toEqual([RESUMING, RUNNING, SUSPENDING, PAUSING]);
  });

  it('explains an illegal transition', () => {
    expect(() => transition(PAUSED, 'markSuspending')).toThrow(
      'event markSuspending is not allowed in state STATUS_PAUSED',
    );
    expect(() => transition(ABSENT, 'delete')).toThrow(
      expect.objectContaining({ code: 'ILLEGAL_TRANSITION', from: ABSENT, event: 'delete' }),
    );
  });
});
