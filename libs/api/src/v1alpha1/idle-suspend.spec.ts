import {
  IDLE_SUSPEND_AFTER_ANNOTATION as KEY,
  idleSuspendAfterIssues,
  parseIdleSuspendAfter,
  resolveIdleSuspendAfter,
} from './idle-suspend';

describe('parseIdleSuspendAfter', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['2m30.5s', 150_500],
    ['1500ms', 1_500],
    ['+10s', 10_000],
    ['.5m', 30_000],
    ['90000000000ns', 90_000],
    ['1000000µs', 1_000],
    ['0', 0],
    ['off', 0],
    ['0s', 0],
    ['0h0m', 0],
  ])('reads %s as %d ms', (value, ms) => {
    expect(parseIdleSuspendAfter(value)).toEqual({ ok: true, ms });
  });

  it.each([
    ['', 'is not a duration'],
    ['5', 'is not a duration'],
    ['5 minutes', 'is not a duration'],
    ['5M', 'is not a duration'],
    ['1d', 'unknown unit "d"'],
    ['-5m', 'is negative'],
    ['.s', 'is not a duration'],
    ['5m ', 'is not a duration'],
    ['OFF', 'is not a duration'],
    ['500ms', 'shorter than 1s'],
    ['9999999999h', 'out of range'],
  ])('refuses %j (%s)', (value, why) => {
    const parsed = parseIdleSuspendAfter(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.problem).toContain(why);
      expect(parsed.problem).toContain(JSON.stringify(value));
    }
  });
});

describe('resolveIdleSuspendAfter', () => {
  it("takes the actor's annotation over the template's, and the template's over nothing", () => {
    expect(resolveIdleSuspendAfter({ [KEY]: '30s' }, { [KEY]: '5m' })).toBe(30_000);
    expect(resolveIdleSuspendAfter({ other: 'x' }, { [KEY]: '5m' })).toBe(300_000);
    expect(resolveIdleSuspendAfter(undefined, { [KEY]: '5m' })).toBe(300_000);
    expect(resolveIdleSuspendAfter({}, {})).toBeUndefined();
    expect(resolveIdleSuspendAfter(undefined, undefined)).toBeUndefined();
  });

  it('lets an actor turn off what its template turns on, and the reverse', () => {
    expect(resolveIdleSuspendAfter({ [KEY]: 'off' }, { [KEY]: '5m' })).toBe(0);
    expect(resolveIdleSuspendAfter({ [KEY]: '10s' }, { [KEY]: '0' })).toBe(10_000);
  });
});

describe('idleSuspendAfterIssues', () => {
  it('reports an invalid value at the annotation, and nothing for a valid or absent one', () => {
    expect(idleSuspendAfterIssues({ [KEY]: 'soon' })).toEqual([
      {
        path: `metadata.annotations[${KEY}]`,
        type: 'invalid',
        message: expect.stringContaining('"soon" is not a duration') as string,
      },
    ]);
    expect(idleSuspendAfterIssues({ [KEY]: '5m' })).toEqual([]);
    expect(idleSuspendAfterIssues(undefined)).toEqual([]);
  });
});
