import { IdleTracker } from './idle-tracker';

describe('IdleTracker', () => {
  let now = 0;
  const tracker = () => new IdleTracker(() => now);

  beforeEach(() => {
    now = 1_000;
  });

  it('reports an actor idle only after its last request closed and the timeout passed', () => {
    const idle = tracker();
    const close = idle.opened('a/x');
    now += 10_000;
    expect(idle.idleFor(5_000)).toEqual([]);
    close();
    now += 4_999;
    expect(idle.idleFor(5_000)).toEqual([]);
    now += 1;
    expect(idle.idleFor(5_000)).toEqual(['a/x']);
  });

  it('never reports an actor with a websocket open, and forgets a suspended one for good', () => {
    const idle = tracker();
    const ws = idle.opened('a/ws');
    idle.opened('a/req')();
    now += 60_000;
    expect(idle.idleFor(1_000)).toEqual(['a/req']);
    idle.markSuspending('a/req', true);
    expect(idle.idleFor(1_000)).toEqual([]);
    idle.forget('a/req');
    idle.markSuspending('a/req', false);
    now += 60_000;
    expect(idle.idleFor(1_000)).toEqual([]);
    ws();
    now += 1_000;
    expect(idle.idleFor(1_000)).toEqual(['a/ws']);
  });
});
