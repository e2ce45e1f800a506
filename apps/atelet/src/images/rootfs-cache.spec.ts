import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from '@substrate/testing';
import { gnuTar } from '../../test/tar-fixtures';
import { multiLayerLayout } from '../../test/oci-fixtures';
import { goArch } from '../config';
import { OciLayoutSource, RegistrySource } from './image-source';
import { RootfsCache } from './rootfs-cache';

describe('RootfsCache with OCI image layouts', () => {
  let tmp: { path: string; remove: () => void };
  beforeEach(() => (tmp = tempDir('atelet-rootfs')));
  afterEach(() => tmp.remove());

  const cache = (maxBytes = 1024 ** 3) =>
    new RootfsCache(
      join(tmp.path, 'cache'),
      maxBytes,
      { layout: new OciLayoutSource(), registry: new RegistrySource() },
      goArch(),
    );

  function dir(name: string, files: Record<string, string>): string {
    const root = join(tmp.path, 'src', name);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    return root;
  }

  async function image(
    name: string,
    layers: Record<string, string>[],
    config: Record<string, unknown> = { Cmd: ['/bin/app'] },
  ) {
    const layout = join(tmp.path, 'layouts', name);
    const built = await multiLayerLayout(
      layout,
      layers.map((files, i) => dir(`${name}-${i}`, files)),
      config,
    );
    return { layout, ...built };
  }

  it('unpacks a multi-layer image by tag and by digest into one cached rootfs with its config', async () => {
    const img = await image(
      'app',
      [
        { 'etc/a': 'lower', 'etc/b': 'b', 'data/old': 'old' },
        { 'etc/a': 'upper', 'etc/.wh.b': '', 'data/.wh..wh..opq': '', 'data/new': 'new' },
      ],
      { Entrypoint: ['/bin/app'], Env: ['A=1'], WorkingDir: '/srv', User: '1000' },
    );
    const rootfs = cache();
    await rootfs.init();
    const first = await rootfs.prepare(`oci:${img.layout}:test`);
    expect(first).toMatchObject({ digest: img.manifestDigest, cached: false });
    expect(first.config).toMatchObject({
      Entrypoint: ['/bin/app'],
      Env: ['A=1'],
      WorkingDir: '/srv',
      User: '1000',
    });
    expect(readFileSync(join(first.rootfs, 'etc/a'), 'utf8')).toBe('upper');
    expect(existsSync(join(first.rootfs, 'etc/b'))).toBe(false);
    expect(readdirSync(join(first.rootfs, 'data'))).toEqual(['new']);
    const second = await rootfs.prepare(`oci:${img.layout}@${img.manifestDigest}`);
    expect(second).toMatchObject({ digest: img.manifestDigest, cached: true, rootfs: first.rootfs });
    // A new process finds the entry again.
    const reopened = cache();
    await reopened.init();
    expect((await reopened.prepare(`oci:${img.layout}:test`)).cached).toBe(true);
  });

  it('refuses a tampered layer and leaves nothing in the cache', async () => {
    const img = await image('tampered', [{ 'bin/app': 'x'.repeat(10_000) }]);
    const blob = join(img.layout, 'blobs', 'sha256', (img.layerDigests[0] ?? '').slice(7));
    // A valid layer with other content under the original digest: only the digest check can notice.
    writeFileSync(blob, gzipSync(gnuTar(dir('evil', { 'bin/app': 'evil' }))));
    const rootfs = cache();
    await rootfs.init();
    await expect(rootfs.prepare(`oci:${img.layout}:test`)).rejects.toThrow(
      `blob ${img.layerDigests[0] ?? ''} has digest sha256:`,
    );
    expect(readdirSync(join(tmp.path, 'cache'))).toEqual([]);
  });

  it('names what is missing: a tag, a layout', async () => {
    const img = await image('named', [{ a: 'a' }]);
    const rootfs = cache();
    await rootfs.init();
    await expect(rootfs.prepare(`oci:${img.layout}:nope`)).rejects.toThrow(
      `image oci:${img.layout}:nope not found: no image tagged "nope" in index.json`,
    );
    await expect(rootfs.prepare(`oci:${join(tmp.path, 'none')}:x`)).rejects.toThrow(
      'no index.json in the layout directory',
    );
    await expect(rootfs.prepare('oci:relative/dir:x')).rejects.toThrow('must be an absolute path');
  });

  it('evicts the least recently used rootfs beyond its size bound, never a pinned one', async () => {
    const big = 'x'.repeat(40_000);
    const a = await image('a', [{ f: big }]);
    const b = await image('b', [{ f: big, g: 'b' }]);
    const c = await image('c', [{ f: big, g: 'c' }]);
    const rootfs = cache(90_000);
    await rootfs.init();
    const pa = await rootfs.prepare(`oci:${a.layout}:test`);
    rootfs.pin('w0', pa.digest);
    const pb = await rootfs.prepare(`oci:${b.layout}:test`);
    await rootfs.prepare(`oci:${c.layout}:test`);
    expect(rootfs.digests()).toEqual([pa.digest, c.manifestDigest]);
    expect(existsSync(pb.rootfs)).toBe(false);
    expect(statSync(pa.rootfs).isDirectory()).toBe(true);
  });
});
