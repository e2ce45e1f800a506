import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { listSnapshots, newSnapshotPrefix } from '@substrate/snapshot-store';
import { openObjectStore, type ObjectStore } from '@substrate/storage';

import { parseArgs, parseDuration, run } from './cli';

describe('snapshot-gc command line', () => {
  it('parses options with their defaults', () => {
    expect(parseArgs(['file:///snapshots'], {})).toEqual({
      uri: 'file:///snapshots',
      keepLatest: 2,
      orphanGraceMs: 3_600_000,
      dryRun: false,
      json: false,
    });
    expect(
      parseArgs(['s3://b/p', '--keep', '3', '--grace=30m', '--dry-run', '--actor', 'a'], {
        AWS_ENDPOINT_URL: 'http://127.0.0.1:7070',
      }),
    ).toEqual({
      uri: 's3://b/p',
      keepLatest: 3,
      orphanGraceMs: 1_800_000,
      dryRun: true,
      json: false,
      actorId: 'a',
      s3Endpoint: 'http://127.0.0.1:7070',
    });
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2d')).toBe(172_800_000);
  });

  it.each([
    [[]],
    [['a', 'b']],
    [['u', '--keep', '0']],
    [['u', '--grace', '1 hour']],
    [['u', '--frobnicate']],
  ])('refuses %j with a usage message and exit code 2', async (argv) => {
    const errors: string[] = [];
    expect(
      await run(
        argv,
        () => undefined,
        (line) => errors.push(line),
        {},
      ),
    ).toBe(2);
    expect(errors.join('\n')).toContain('usage: npm run snapshot-gc');
  });

  describe('against a file:// location', () => {
    let dir = '';
    let store: ObjectStore;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'substrate-snapshot-gc-'));
      await mkdir(join(dir, 'snapshots'));
      store = await openObjectStore(`file://${join(dir, 'snapshots')}`);
    });
    afterEach(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });

    /** A snapshot `hoursAgo` old with a 1000-byte object, committed (with a 2-byte manifest) or not. */
    async function snapshot(actorId: string, hoursAgo: number, committed: boolean): Promise<string> {
      const prefix = newSnapshotPrefix(actorId, { now: new Date(Date.now() - hoursAgo * 3_600_000) });
      await store.put(`${prefix}/pages.img.zstd`, Buffer.alloc(1000, 1));
      if (committed) await store.put(`${prefix}/manifest.json`, Buffer.from('{}'));
      return prefix;
    }

    it('prints what it deleted and what it freed', async () => {
      const old = await snapshot('a', 5, true);
      await snapshot('a', 4, true);
      await snapshot('a', 3, true);
      const orphan = await snapshot('a', 2, false);
      await snapshot('a', 0, false); // an upload in progress
      // An uploader killed during the first file of a snapshot 2 hours ago left only its temp file.
      const killed = newSnapshotPrefix('b', { now: new Date(Date.now() - 2 * 3_600_000) });
      const temp = join(dir, 'snapshots', killed, '.substrate-upload-0123456789abcdef');
      await mkdir(join(temp, '..'), { recursive: true });
      await writeFile(temp, 'partial');
      await utimes(temp, new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000));
      const lines: string[] = [];
      const code = await run(
        [`file://${join(dir, 'snapshots')}`, '--keep', '2', '--grace', '1h'],
        (line) => lines.push(line),
        () => undefined,
        {},
      );
      expect(code).toBe(0);
      expect(lines).toEqual([
        `deleted ${old} (superseded, 2 object(s), 1002 bytes (0.0 MiB))`,
        `deleted ${orphan} (orphaned, 1 object(s), 1000 bytes (0.0 MiB))`,
        'freed 2002 bytes (0.0 MiB) in 2 snapshot(s) (3 object(s)); kept 3; aborted 1 incomplete upload(s)',
      ]);
      expect(await listSnapshots(store, '')).toHaveLength(3);
      expect(await readdir(join(dir, 'snapshots'))).toEqual(['a']); // the killed upload is gone
    });

    it('deletes nothing in a dry run and everything of an actor with --delete-actor', async () => {
      await snapshot('a', 5, true);
      await snapshot('a', 4, true);
      await snapshot('a', 3, true);
      const lines: string[] = [];
      const uri = `file://${join(dir, 'snapshots')}`;
      expect(
        await run(
          [uri, '--keep', '1', '--dry-run'],
          (l) => lines.push(l),
          () => undefined,
          {},
        ),
      ).toBe(0);
      expect(lines[lines.length - 1]).toBe(
        'would free 2004 bytes (0.0 MiB) in 2 snapshot(s) (4 object(s)); kept 1',
      );
      expect(await listSnapshots(store, '')).toHaveLength(3);
      expect(
        await run(
          [uri, '--delete-actor', 'a'],
          (l) => lines.push(l),
          () => undefined,
          {},
        ),
      ).toBe(0);
      expect(lines[lines.length - 1]).toBe(
        'deleted 3 snapshot(s) of actor a: 6 object(s), freed 3006 bytes (0.0 MiB)',
      );
      expect(await listSnapshots(store, '')).toHaveLength(0);
    });
  });
});
