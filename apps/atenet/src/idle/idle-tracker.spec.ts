import { IdleTracker } from './idle-tracker';

describe('IdleTracker', () => {
  let now = 0;
  const tracker = (defaultMs: number) => new IdleTracker(defaultMs, () => now);
  const keys = (idle: IdleTracker) => idle.idle().map((a) => a.key);

  beforeEach(() => {
    now = 1_000;
  });

  it('reports an actor idle only after its last request closed and the timeout passed', () => {
    const idle = tracker(5_000);
    const close = idle.opened('a/x');
    now += 10_000;
    expect(idle.idle()).toEqual([]);
    close();
    now += 4_999;
    expect(idle.idle()).toEqual([]);
    now += 1;
    expect(idle.idle()).toEqual([{ key: 'a/x', timeoutMs: 5_000 }]);
  });

  it('never reports an actor with a websocket open, and forgets a suspended one for good', () => {
    const idle = tracker(1_000);
    const ws = idle.opened('a/ws');
    idle.opened('a/req')();
    now += 60_000;
    expect(keys(idle)).toEqual(['a/req']);
    idle.markSuspending('a/req', true);
    expect(keys(idle)).toEqual([]);
    idle.forget('a/req');
    idle.markSuspending('a/req', false);
    now += 60_000;
    expect(keys(idle)).toEqual([]);
    ws();
    now += 1_000;
    expect(keys(idle)).toEqual(['a/ws']);
  });

  it("uses an actor's own timeout over the default, shorter or longer", () => {
    const idle = tracker(10_000);
    for (const key of ['a/short', 'a/long', 'a/default']) idle.opened(key)();
    idle.setActorTimeout('a/short', 2_000);
    idle.setActorTimeout('a/long', 60_000);
    idle.setActorTimeout('a/default', undefined);
    now += 2_000;
    expect(idle.idle()).toEqual([{ key: 'a/short', timeoutMs: 2_000 }]);
    now += 8_000;
    expect(keys(idle).sort()).toEqual(['a/default', 'a/short']);
    now += 50_000;
    expect(keys(idle).sort()).toEqual(['a/default', 'a/long', 'a/short']);
    expect(idle.timeoutOf('a/long')).toBe(60_000);
    expect(idle.timeoutOf('a/unknown')).toBe(10_000);
  });

  it('never suspends an actor whose timeout is off, even when the default is on', () => {
    const idle = tracker(1_000);
    idle.opened('a/off')();
    idle.setActorTimeout('a/off', 0);
    now += 86_400_000;
    expect(idle.idle()).toEqual([]);
  });

  it('with the default off, suspends only actors that have a timeout of their own', () => {
    const idle = tracker(0);
    idle.opened('a/plain')();
    idle.opened('a/annotated')();
    idle.setActorTimeout('a/annotated', 3_000);
    now += 86_400_000;
    expect(idle.idle()).toEqual([{ key: 'a/annotated', timeoutMs: 3_000 }]);
  });

  it('keeps an actor with its own timeout awake while a websocket or stream is open to it', () => {
    const idle = tracker(0);
    const ws = idle.opened('a/ws');
    idle.setActorTimeout('a/ws', 2_000);
    now += 3_600_000;
    expect(idle.idle()).toEqual([]);
    ws();
    now += 1_999;
    expect(idle.idle()).toEqual([]);
    now += 1;
    expect(keys(idle)).toEqual(['a/ws']);
  });

  it('forgets the timeout with the actor: after it stopped, the default applies until the next wake', () => {
    const idle = tracker(0);
    idle.opened('a/x')();
    idle.setActorTimeout('a/x', 2_000);
    idle.forget('a/x');
    expect(idle.size).toBe(0);
    idle.opened('a/x')();
    now += 60_000;
    expect(idle.idle()).toEqual([]);
  });
});
