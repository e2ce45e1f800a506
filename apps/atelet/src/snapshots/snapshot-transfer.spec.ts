import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { newSnapshotPrefix } from '@substrate/snapshot-store';
import { tempDir } from '@substrate/testing';
import { SnapshotTransfer, splitSnapshotUri } from './snapshot-transfer';

describe('snapshot transfer', () => {
  let tmp: { path: string; remove: () => void };
  beforeEach(() => (tmp = tempDir('atelet-transfer')));
  afterEach(() => tmp.remove());
  const runtime = {
    scope: 'full' as const,
    assets: { runsc: { url: 'file:///runsc', sha256: 'a'.repeat(64) } },
  };

  it('splits a snapshot URI into the store location and the layout prefix', () => {
    const prefix = 'a1.demo/2026-05-22T21:49:15.120Z-ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    expect(splitSnapshotUri(`s3://bucket/loc/${prefix}`)).toEqual({ location: 's3://bucket/loc', prefix });
    expect(splitSnapshotUri(`gs://bucket/${prefix}/`)).toEqual({ location: 'gs://bucket', prefix });
    expect(() => splitSnapshotUri('s3://bucket/loc/a1/not-a-snapshot')).toThrow(
      'external_config.snapshot_uri_prefix',
    );
  });

  it('uploads to file://, downloads verified, and refuses a tampered file', async () => {
    const source = join(tmp.path, 'checkpoint');
    mkdirSync(source);
    writeFileSync(join(source, 'pages.img'), Buffer.alloc(300_000, 7));
    writeFileSync(join(source, 'checkpoint.img'), 'state');
    const uri = `file://${join(tmp.path, 'store')}/${newSnapshotPrefix('a1.demo')}`;
    const transfer = new SnapshotTransfer({}, 60_000);
    await transfer.uploadExternal(uri, source, ['checkpoint.img', 'pages.img'], runtime);
    const restored = await transfer.downloadExternal(uri, join(tmp.path, 'restore'));
    expect(restored).toMatchObject({
      files: ['checkpoint.img', 'pages.img'],
      scope: 'full',
      assets: runtime.assets,
    });
    expect(readFileSync(join(tmp.path, 'restore', 'pages.img'))).toEqual(Buffer.alloc(300_000, 7));

    const dir = new URL(uri).pathname;
    const object = join(dir, 'checkpoint.img.zstd');
    const bytes = readFileSync(object);
    bytes[bytes.length - 6] = (bytes[bytes.length - 6] ?? 0) ^ 1;
    writeFileSync(object, bytes);
    await expect(transfer.downloadExternal(uri, join(tmp.path, 'restore2'))).rejects.toMatchObject({
      code: 'SNAPSHOT_INTEGRITY',
    });
    expect(readdirSync(join(tmp.path, 'restore2')).filter((f) => !f.startsWith('.'))).toEqual([]);
    await expect(
      transfer.downloadExternal(
        `file://${join(tmp.path, 'store')}/${newSnapshotPrefix('a1.demo')}`,
        join(tmp.path, 'r3'),
      ),
    ).rejects.toMatchObject({
      code: 'SNAPSHOT_NOT_FOUND',
    });
  });

  it('keeps LOCAL snapshots on the node and checks their sizes', async () => {
    const source = join(tmp.path, 'checkpoint');
    mkdirSync(source);
    writeFileSync(join(source, 'pages.img'), 'pages');
    const transfer = new SnapshotTransfer({}, 60_000);
    const snapshot = join(tmp.path, 'local-checkpoint', 'p1');
    await transfer.saveLocal(source, snapshot, ['pages.img'], runtime);
    expect(readdirSync(source)).toEqual([]);
    const fetched = await transfer.fetchLocal(snapshot, join(tmp.path, 'restore'));
    expect(fetched).toMatchObject({ files: ['pages.img'], bytes: 5 });
    writeFileSync(join(snapshot, 'pages.img'), 'short');
    writeFileSync(join(snapshot, 'pages.img'), 'tiny');
    await expect(transfer.fetchLocal(snapshot, join(tmp.path, 'restore2'))).rejects.toThrow(
      'pages.img has 4 bytes, the manifest says 5',
    );
  });
});
