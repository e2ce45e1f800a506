import {
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
  readlinkSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@substrate/testing';
import { DURABLE_ARCHIVE, DurableDirs } from './durable-dirs';
import { actorPaths } from './workload-request';

describe('durable dirs', () => {
  let tmp: { path: string; remove: () => void };
  beforeEach(() => (tmp = tempDir('ateom-durable')));
  afterEach(() => tmp.remove());

  const actor = { atespace: 'a', templateNamespace: 'ns', templateName: 't', actorId: 'x' };

  it('archives the host dirs and puts exactly them back (files, modes, symlinks), replacing later writes', async () => {
    const paths = actorPaths(join(tmp.path, 'actors'), actor);
    const durable = new DurableDirs('tar');
    await durable.reset(paths, ['/home/counter', '/data']);
    writeFileSync(join(paths.durableDir('/home/counter'), 'a.txt'), '7');
    mkdirSync(join(paths.durableDir('/data'), 'sub'));
    writeFileSync(join(paths.durableDir('/data'), 'sub', 'secret'), 's', { mode: 0o600 });
    symlinkSync('sub/secret', join(paths.durableDir('/data'), 'link'));
    const snapshot = join(tmp.path, 'snap');
    mkdirSync(snapshot);
    expect(await durable.archive(paths, ['/home/counter', '/data'], snapshot)).toBe(DURABLE_ARCHIVE);
    expect(readdirSync(snapshot)).toEqual([DURABLE_ARCHIVE]);

    // The actor goes on writing; the restore brings back the snapshot's state only.
    writeFileSync(join(paths.durableDir('/home/counter'), 'a.txt'), '8');
    writeFileSync(join(paths.durableDir('/home/counter'), 'later'), 'x');
    await durable.restore(paths, ['/home/counter', '/data'], snapshot, true);
    expect(readdirSync(paths.durableDir('/home/counter'))).toEqual(['a.txt']);
    expect(readFileSync(join(paths.durableDir('/home/counter'), 'a.txt'), 'utf8')).toBe('7');
    expect(statSync(join(paths.durableDir('/data'), 'sub', 'secret')).mode & 0o777).toBe(0o600);
    expect(readlinkSync(join(paths.durableDir('/data'), 'link'))).toBe('sub/secret');
  });

  it('restores empty dirs from a snapshot without the archive, unless the scope needs it', async () => {
    const paths = actorPaths(join(tmp.path, 'actors'), actor);
    const durable = new DurableDirs('tar');
    await durable.reset(paths, ['/d']);
    writeFileSync(join(paths.durableDir('/d'), 'old'), 'x');
    const empty = join(tmp.path, 'empty');
    mkdirSync(empty);
    await durable.restore(paths, ['/d'], empty, false);
    expect(readdirSync(paths.durableDir('/d'))).toEqual([]);
    await expect(durable.restore(paths, ['/d'], empty, true)).rejects.toMatchObject({
      code: 'MISSING_INPUT',
    });
  });
});
