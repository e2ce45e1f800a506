import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { openObjectStore, type ObjectStore } from '@substrate/storage';

import { METADATA, useTempDir, writeSparse } from '../../test/helpers';
import {
  collectSnapshots,
  deleteActorSnapshots,
  downloadSnapshot,
  isSnapshotStoreError,
  latestCommittedSnapshot,
  listSnapshots,
  newSnapshotPrefix,
  uploadSnapshot,
} from '../index';

const HOUR = 60 * 60 * 1000;
const T0 = new Date('2026-06-01T00:00:00.000Z');
const at = (hours: number): Date => new Date(T0.getTime() + hours * HOUR);

describe('listSnapshots, latestCommittedSnapshot, collectSnapshots, deleteActorSnapshots (file://)', () => {
  let dir = '';
  useTempDir((made) => (dir = made));
  let store: ObjectStore;
  let source = '';

  beforeEach(async () => {
    source = join(dir, 'checkpoint');
    await mkdir(source);
    await writeSparse(join(source, 'pages.img'), 1 << 20, [{ offset: 4096, data: Buffer.from('page data') }]);
    await mkdir(join(dir, 'store'));
    store = await openObjectStore(`file://${join(dir, 'store')}`);
  });

  /** A committed snapshot of `actorId` taken at `when`. */
  async function committed(actorId: string, when: Date, location = ''): Promise<string> {
    const prefix = newSnapshotPrefix(actorId, { now: when, location });
    await uploadSnapshot(store, prefix, source, ['pages.img'], { metadata: METADATA });
    return prefix;
  }

  /** An upload that died before its manifest: one file object, no commit marker. */
  async function uncommitted(actorId: string, when: Date, location = ''): Promise<string> {
    const prefix = newSnapshotPrefix(actorId, { now: when, location });
    await store.put(`${prefix}/pages.img.zstd`, Buffer.alloc(1000, 1));
    return prefix;
  }

  it('lists snapshots oldest first and finds the latest committed one, ignoring uploads without a manifest', async () => {
    const first = await committed('a', at(0));
    const second = await committed('a', at(1));
    const partial = await uncommitted('a', at(2));
    await committed('b', at(0));
    await store.put('a/not-a-snapshot/file', Buffer.from('x'));

    const all = await listSnapshots(store, '', { actorId: 'a' });
    expect(all.map((s) => [s.prefix, s.committed])).toEqual([
      [first, true],
      [second, true],
      [partial, false],
    ]);
    expect(all[2]).toMatchObject({ objects: 1, bytes: 1000 });
    expect((await listSnapshots(store, '')).map((s) => s.actorId)).toEqual(['a', 'a', 'a', 'b']);
    expect((await latestCommittedSnapshot(store, '', 'a'))?.prefix).toBe(second);
    expect(await latestCommittedSnapshot(store, '', 'nobody')).toBeUndefined();
    const error: unknown = await downloadSnapshot(store, partial, join(dir, 'r')).catch((e: unknown) => e);
    expect(isSnapshotStoreError(error, 'SNAPSHOT_NOT_FOUND')).toBe(true);
  });

  it('keeps the latest N committed snapshots per actor and reports what it freed', async () => {
    const a = [await committed('a', at(0)), await committed('a', at(1)), await committed('a', at(2))];
    const a3 = await committed('a', at(3));
    const b = await committed('b', at(0));
    const before = await listSnapshots(store, '');
    const sizeOf = (prefix: string): number => before.find((s) => s.prefix === prefix)?.bytes ?? NaN;

    const report = await collectSnapshots(store, '', { keepLatest: 2, now: at(4) });
    expect(report.deleted.map((s) => [s.prefix, s.reason])).toEqual([
      [a[0], 'superseded'],
      [a[1], 'superseded'],
    ]);
    expect(report.kept).toBe(3);
    expect(report.objectsDeleted).toBe(4); // one file and one manifest each
    expect(report.bytesFreed).toBe(sizeOf(a[0] ?? '') + sizeOf(a[1] ?? ''));
    expect(report.failures).toEqual([]);
    expect((await listSnapshots(store, '')).map((s) => s.prefix)).toEqual([a[2], a3, b]);
    // The directories of the deleted snapshots are gone too.
    expect((await readdir(join(dir, 'store', 'a'))).length).toBe(2);
    await downloadSnapshot(store, a3, join(dir, 'restore'));
  });

  it('deletes uploads without a manifest only once they are older than the grace period', async () => {
    await committed('a', at(0));
    const young = await uncommitted('a', at(9.5));
    const old = await uncommitted('a', at(8));
    const report = await collectSnapshots(store, '', { orphanGraceMs: HOUR, now: at(10) });
    expect(report.deleted.map((s) => [s.prefix, s.reason])).toEqual([[old, 'orphaned']]);
    expect(report.bytesFreed).toBe(1000);
    const later = await collectSnapshots(store, '', { orphanGraceMs: HOUR, now: at(11) });
    expect(later.deleted.map((s) => s.prefix)).toEqual([young]);
    expect((await listSnapshots(store, '')).every((s) => s.committed)).toBe(true);
  });

  it('aborts the uploads of killed uploaders once older than the grace period, only inside snapshots', async () => {
    const kept = await committed('a', at(0));
    /** What an uploader killed mid-file leaves on file://: its temp file, which no listing shows. */
    async function killedUpload(prefix: string): Promise<void> {
      const temp = join(dir, 'store', prefix, '.substrate-upload-0123456789abcdef');
      await mkdir(join(temp, '..'), { recursive: true });
      await writeFile(temp, 'partial');
      await utimes(temp, at(1), at(1));
    }
    // A snapshot killed during its first file has nothing else, so no snapshot is listed for it.
    const killed = newSnapshotPrefix('a', { now: at(1) });
    await killedUpload(killed);
    await killedUpload('a/not-a-snapshot');
    expect((await listSnapshots(store, '')).map((s) => s.prefix)).toEqual([kept]);

    const early = await collectSnapshots(store, '', { orphanGraceMs: HOUR, now: at(1.5) });
    expect(early).toMatchObject({ abortedUploads: 0, deleted: [], failures: [] });
    expect(await collectSnapshots(store, '', { actorId: 'b', now: at(3) })).toMatchObject({
      abortedUploads: 0,
    });
    const dry = await collectSnapshots(store, '', { orphanGraceMs: HOUR, now: at(3), dryRun: true });
    expect(dry.abortedUploads).toBe(1);
    expect((await readdir(join(dir, 'store', 'a'))).sort()).toHaveLength(3);

    const later = await collectSnapshots(store, '', { orphanGraceMs: HOUR, now: at(3) });
    expect(later).toMatchObject({ abortedUploads: 1, deleted: [], kept: 1, failures: [] });
    expect((await readdir(join(dir, 'store', 'a'))).sort()).toEqual(
      [kept.split('/')[1], 'not-a-snapshot'].sort(),
    );
  });

  it('changes nothing in a dry run', async () => {
    await committed('a', at(0));
    await committed('a', at(1));
    await committed('a', at(2));
    const report = await collectSnapshots(store, '', { keepLatest: 1, dryRun: true, now: at(3) });
    expect(report.deleted).toHaveLength(2);
    expect(report.bytesFreed).toBeGreaterThan(0);
    expect(await listSnapshots(store, '')).toHaveLength(3);
  });

  it('works under a location inside the store and leaves other locations alone', async () => {
    await committed('a', at(0), 'tmpl-1');
    const kept = await committed('a', at(1), 'tmpl-1');
    const elsewhere = await committed('a', at(0), 'tmpl-2');
    const report = await collectSnapshots(store, 'tmpl-1/', { keepLatest: 1, now: at(2) });
    expect(report.deleted).toHaveLength(1);
    expect((await listSnapshots(store, 'tmpl-1')).map((s) => s.prefix)).toEqual([kept]);
    expect((await listSnapshots(store, 'tmpl-2')).map((s) => s.prefix)).toEqual([elsewhere]);
  });

  it('deletes every snapshot of a deleted actor, and only its own', async () => {
    await committed('a', at(0));
    await committed('a', at(1));
    await uncommitted('a', at(2));
    const b = await committed('b', at(0));
    const before = (await listSnapshots(store, '', { actorId: 'a' })).reduce((sum, s) => sum + s.bytes, 0);
    const report = await deleteActorSnapshots(store, '', 'a');
    expect(report).toEqual({ snapshots: 3, objectsDeleted: 5, bytesFreed: before });
    expect((await listSnapshots(store, '')).map((s) => s.prefix)).toEqual([b]);
  });

  it('checks its options', async () => {
    for (const options of [{ keepLatest: 0 }, { keepLatest: 1.5 }, { orphanGraceMs: -1 }]) {
      const error: unknown = await collectSnapshots(store, '', options).catch((e: unknown) => e);
      expect(isSnapshotStoreError(error, 'INVALID_OPTION')).toBe(true);
    }
  });
});
