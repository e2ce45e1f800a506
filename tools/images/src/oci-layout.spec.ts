import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describeWithComponents, requireTool, tempDir } from '@substrate/testing';
import { MEDIA_TYPES, writeOciLayout } from './oci-layout';

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function blob(layout: string, digest: string): Buffer {
  return readFileSync(join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
}

describeWithComponents(['tar'], 'OCI image layout writer', () => {
  let tmp: { path: string; remove: () => void };
  let rootfs: string;

  beforeAll(() => {
    tmp = tempDir('images');
    rootfs = join(tmp.path, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    mkdirSync(join(rootfs, 'data'), { recursive: true });
    writeFileSync(join(rootfs, 'bin', 'tool'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    writeFileSync(join(rootfs, 'data', 'note.txt'), 'hello\n', { mode: 0o600 });
    symlinkSync('tool', join(rootfs, 'bin', 'alias'));
  });

  afterAll(() => tmp.remove());

  const spec = (out: string) => ({
    rootfs,
    out,
    tag: 'tiny',
    config: { cmd: ['/bin/tool'], env: ['PATH=/bin'], exposedPorts: [80] },
  });

  it('addresses every blob by the sha256 and size of its bytes, and links index → manifest → config, layer', async () => {
    const out = join(tmp.path, 'a');
    const layout = await writeOciLayout(spec(out));
    expect(JSON.parse(readFileSync(join(out, 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as {
      manifests: { digest: string; size: number; mediaType: string; annotations: Record<string, string> }[];
    };
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]).toMatchObject({
      mediaType: MEDIA_TYPES.manifest,
      digest: layout.manifest.digest,
      annotations: { 'org.opencontainers.image.ref.name': 'tiny' },
    });
    for (const name of readdirSync(join(out, 'blobs', 'sha256'))) {
      const bytes = readFileSync(join(out, 'blobs', 'sha256', name));
      expect(sha256(bytes)).toBe(`sha256:${name}`);
    }
    const manifest = JSON.parse(blob(out, layout.manifest.digest).toString('utf8')) as {
      config: { digest: string; size: number };
      layers: { digest: string; size: number; mediaType: string }[];
    };
    expect(manifest.config.size).toBe(
      statSync(join(out, 'blobs/sha256', manifest.config.digest.slice(7))).size,
    );
    expect(manifest.layers[0]?.mediaType).toBe(MEDIA_TYPES.layer);
    const config = JSON.parse(blob(out, layout.config.digest).toString('utf8')) as {
      config: { Cmd: string[]; ExposedPorts: Record<string, object> };
      rootfs: { diff_ids: string[] };
    };
    expect(config.config.Cmd).toEqual(['/bin/tool']);
    expect(config.config.ExposedPorts).toEqual({ '80/tcp': {} });
    // The diff_id is the digest of the uncompressed layer.
    const layer = blob(out, layout.layers[0]?.digest ?? '');
    expect(config.rootfs.diff_ids).toEqual([sha256(gunzipSync(layer))]);
  });

  it('is reproducible: the same rootfs gives the same digests', async () => {
    const first = await writeOciLayout(spec(join(tmp.path, 'b1')));
    const second = await writeOciLayout(spec(join(tmp.path, 'b2')));
    expect(second.manifest.digest).toBe(first.manifest.digest);
    expect(second.layers).toEqual(first.layers);
  });

  it('packs names, modes and symlinks exactly (tar listing of the layer)', async () => {
    const out = join(tmp.path, 'c');
    const layout = await writeOciLayout(spec(out));
    const layerPath = join(out, 'blobs', 'sha256', (layout.layers[0]?.digest ?? '').slice(7));
    const listing = execFileSync('tar', ['-tvzf', layerPath], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* \.\/bin\/tool$/m);
    expect(listing).toMatch(/^-rw------- 0\/0 .* \.\/data\/note\.txt$/m);
    expect(listing).toMatch(/^lrwxrwxrwx 0\/0 .* \.\/bin\/alias -> tool$/m);
  });
});

describeWithComponents(['tar', 'umoci'], 'OCI image layout read by umoci', () => {
  it('unpacks to the same tree, with a runtime bundle that runs the image command', async () => {
    const tmp = tempDir('images-umoci');
    try {
      const rootfs = join(tmp.path, 'rootfs');
      mkdirSync(join(rootfs, 'bin'), { recursive: true });
      writeFileSync(join(rootfs, 'bin', 'tool'), 'x', { mode: 0o755 });
      const layout = await writeOciLayout({
        rootfs,
        out: join(tmp.path, 'layout'),
        tag: 'tiny',
        config: { cmd: ['/bin/tool'] },
      });
      const bundle = join(tmp.path, 'bundle');
      execFileSync(requireTool('umoci'), ['unpack', '--image', `${layout.dir}:tiny`, bundle]);
      expect(readFileSync(join(bundle, 'rootfs', 'bin', 'tool'), 'utf8')).toBe('x');
      const runtime = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
        process: { args: string[] };
      };
      expect(runtime.process.args).toEqual(['/bin/tool']);
    } finally {
      tmp.remove();
    }
  });
});
