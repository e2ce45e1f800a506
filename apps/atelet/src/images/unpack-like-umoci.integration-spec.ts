// atelet's layer unpacking against umoci's on the same multi-layer image (whiteouts, opaque dirs, hard
// links, symlinks, modes): the trees must be equal.
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithComponents, requireTool, tempDir } from '@substrate/testing';
import { multiLayerLayout } from '../../test/oci-fixtures';
import { describeTree } from '../../test/tree';
import { goArch } from '../config';
import { OciLayoutSource, RegistrySource } from './image-source';
import { RootfsCache } from './rootfs-cache';

describeWithComponents(['umoci', 'tar'], 'layer unpacking compared with umoci', () => {
  let tmp: { path: string; remove: () => void };
  beforeAll(() => (tmp = tempDir('atelet-umoci')));
  afterAll(() => tmp.remove());

  function layer(name: string, build: (dir: string) => void): string {
    const dir = join(tmp.path, 'layers', name);
    mkdirSync(dir, { recursive: true });
    build(dir);
    return dir;
  }

  it('gives the same tree as umoci unpack for a three-layer image', async () => {
    const l1 = layer('1', (d) => {
      for (const sub of ['bin', 'etc/conf.d', 'var/cache', 'usr/lib', 'home/user'])
        mkdirSync(join(d, sub), { recursive: true });
      writeFileSync(join(d, 'bin', 'tool'), 'tool v1\n');
      chmodSync(join(d, 'bin', 'tool'), 0o755);
      linkSync(join(d, 'bin', 'tool'), join(d, 'bin', 'tool-hard'));
      symlinkSync('/usr/lib', join(d, 'lib'));
      writeFileSync(join(d, 'usr/lib/libx.so'), 'lib');
      writeFileSync(join(d, 'etc/conf.d/a'), 'a');
      writeFileSync(join(d, 'etc/conf.d/b'), 'b');
      writeFileSync(join(d, 'var/cache/junk'), 'junk');
      writeFileSync(join(d, 'etc/shadow'), 'secret');
      chmodSync(join(d, 'etc/shadow'), 0o600);
      writeFileSync(join(d, 'home/user/.profile'), 'export A=1\n');
      chmodSync(join(d, 'home/user'), 0o700);
    });
    const l2 = layer('2', (d) => {
      mkdirSync(join(d, 'etc/conf.d'), { recursive: true });
      mkdirSync(join(d, 'var/cache'), { recursive: true });
      mkdirSync(join(d, 'bin'), { recursive: true });
      writeFileSync(join(d, 'etc/conf.d/.wh.a'), '');
      writeFileSync(join(d, 'var/cache/.wh..wh..opq'), '');
      writeFileSync(join(d, 'var/cache/fresh'), 'fresh');
      writeFileSync(join(d, 'bin/tool'), 'tool v2\n');
      chmodSync(join(d, 'bin/tool'), 0o750);
      symlinkSync('tool', join(d, 'bin/t'));
    });
    const l3 = layer('3', (d) => {
      mkdirSync(join(d, 'opt/app'), { recursive: true });
      writeFileSync(join(d, 'opt/app/run'), '#!/bin/sh\n');
      chmodSync(join(d, 'opt/app/run'), 0o755);
      linkSync(join(d, 'opt/app/run'), join(d, 'opt/app/run2'));
      writeFileSync(join(d, '.wh.home'), '');
    });
    const layout = join(tmp.path, 'layout');
    await multiLayerLayout(layout, [l1, l2, l3], { Cmd: ['/opt/app/run'] }, 'v1');

    const bundle = join(tmp.path, 'umoci-bundle');
    execFileSync(requireTool('umoci'), ['unpack', '--image', `${layout}:v1`, bundle]);
    const cache = new RootfsCache(
      join(tmp.path, 'cache'),
      1024 ** 3,
      { layout: new OciLayoutSource(), registry: new RegistrySource() },
      goArch(),
    );
    await cache.init();
    const ours = await cache.prepare(`oci:${layout}:v1`);

    const theirs = describeTree(join(bundle, 'rootfs'));
    const mine = describeTree(ours.rootfs);
    expect(mine).toEqual(theirs);
    expect(mine['bin/tool']).toMatch(/^file 750 8 /);
    expect(mine['etc/conf.d/a']).toBeUndefined();
    expect(mine['var/cache/junk']).toBeUndefined();
    expect(mine['home']).toBeUndefined();
    expect(mine['opt/app/run2']).toContain('linked-with opt/app/run');
  });
});
