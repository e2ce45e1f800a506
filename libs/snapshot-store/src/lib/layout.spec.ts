import {
  isSnapshotStoreError,
  manifestKey,
  newSnapshotPrefix,
  parseSnapshotPrefix,
  snapshotKey,
  compareSnapshots,
} from '../index';

describe('snapshot layout', () => {
  it('makes <actor-id>/<RFC 3339 UTC time>-<26 base32> prefixes that parse back', () => {
    const now = new Date('2026-05-22T21:49:15.120Z');
    const prefix = newSnapshotPrefix('my-counter-1', { now });
    expect(prefix).toMatch(/^my-counter-1\/2026-05-22T21:49:15\.120Z-[A-Z2-7]{26}$/);
    const parsed = parseSnapshotPrefix(`${prefix}/`);
    expect(parsed).toMatchObject({ actorId: 'my-counter-1', prefix, takenAt: now });
    expect(manifestKey(prefix)).toBe(`${prefix}/manifest.json`);
    expect(snapshotKey(`${prefix}/`, 'pages.img.zstd')).toBe(`${prefix}/pages.img.zstd`);
  });

  it('puts the prefix under a location inside the store', () => {
    const prefix = newSnapshotPrefix('a', { location: 'ate-demo-counter' });
    expect(prefix.startsWith('ate-demo-counter/a/')).toBe(true);
    expect(parseSnapshotPrefix(prefix)).toMatchObject({ actorId: 'a', prefix });
  });

  it('never makes the same prefix twice', () => {
    const now = new Date();
    const prefixes = new Set(Array.from({ length: 1000 }, () => newSnapshotPrefix('a', { now })));
    expect(prefixes.size).toBe(1000);
  });

  it("accepts upstream's second-precision ids and orders snapshots by time", () => {
    const older = parseSnapshotPrefix('a/2026-05-22T21:49:15Z-ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    const newer = parseSnapshotPrefix('a/2026-05-22T21:49:15.500Z-ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    expect(compareSnapshots(older, newer)).toBeLessThan(0);
    expect(compareSnapshots(newer, older)).toBeGreaterThan(0);
  });

  it.each(['', '.', '..', 'a/b', 'a\\b', 'tab\there'])('refuses the actor id %j', (actorId) => {
    let error: unknown;
    try {
      newSnapshotPrefix(actorId);
    } catch (e) {
      error = e;
    }
    expect(isSnapshotStoreError(error, 'INVALID_ACTOR_ID')).toBe(true);
  });

  it.each([
    'a',
    'a/not-a-snapshot-id',
    'a/2026-05-22T21:49:15Z-short',
    '/a/2026-05-22T21:49:15Z-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
    'x//a/2026-05-22T21:49:15Z-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
    'a/2026-13-45T21:49:15Z-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ])('refuses the prefix %j', (prefix) => {
    let error: unknown;
    try {
      parseSnapshotPrefix(prefix);
    } catch (e) {
      error = e;
    }
    expect(isSnapshotStoreError(error, 'INVALID_SNAPSHOT_PREFIX')).toBe(true);
  });
});
