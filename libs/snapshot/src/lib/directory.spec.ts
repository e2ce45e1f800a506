import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import { useTempDir, KiB, MiB, listDir, text, writeSparse } from '../../test/helpers';
import {
  MANIFEST_FILE_NAME,
  SnapshotIntegrityError,
  createManifest,
  decodeDirectory,
  encodeDirectory,
  parseManifest,
  serializeManifest,
} from '../index';

const RUNSC = {
  url: 'gs://gvisor/releases/release/20260622/x86_64/runsc',
  sha256: 'f18a948bf9c8bbb54eb998549a3a8d719a1c7de2efbe8fdd2ff0ee5fecd06f19',
};

let dir: string;
useTempDir((path) => (dir = path));

/** A directory standing in for an object store prefix. */
function store(root: string): {
  put: (name: string, body: NodeJS.ReadableStream) => Promise<void>;
  get: (name: string) => Promise<AsyncIterable<Uint8Array>>;
} {
  return {
    put: async (name, body) => {
      await mkdir(dirname(join(root, name)), { recursive: true });
      await pipeline(body, createWriteStream(join(root, name)));
    },
    get: (name) => Promise.resolve(createReadStream(join(root, name))),
  };
}

describe('directory helpers', () => {
  beforeEach(async () => {
    await mkdir(join(dir, 'checkpoint', 'durable'), { recursive: true });
    await mkdir(join(dir, 'bucket'));
    await writeFile(join(dir, 'checkpoint', 'checkpoint.img'), text(300 * KiB));
    await writeSparse(join(dir, 'checkpoint', 'pages.img'), 64 * MiB, [
      { offset: 8 * MiB, data: randomBytes(200 * KiB) },
    ]);
    await writeFile(join(dir, 'checkpoint', 'pages_meta.img'), '');
    await writeFile(join(dir, 'checkpoint', 'durable', 'multitar.img'), text(10 * KiB, 4));
  });

  const names = ['checkpoint.img', 'pages.img', 'pages_meta.img', 'durable/multitar.img'];

  it('stores a checkpoint directory with its manifest and restores it identically', async () => {
    const bucket = store(join(dir, 'bucket'));
    const entries = await encodeDirectory(join(dir, 'checkpoint'), names, bucket.put, { concurrency: 2 });
    expect(entries.map((e) => e.name)).toEqual(names);
    const manifest = createManifest({
      sandboxClass: 'gvisor',
      scope: 'Full',
      assets: { runsc: RUNSC },
      files: entries,
    });
    await writeFile(join(dir, 'bucket', MANIFEST_FILE_NAME), serializeManifest(manifest));
    expect(await listDir(join(dir, 'bucket'))).toEqual([
      'checkpoint.img.zstd',
      'durable',
      'manifest.json',
      'pages.img.zstd',
      'pages_meta.img.zstd',
    ]);

    const read = parseManifest(await readFile(join(dir, 'bucket', MANIFEST_FILE_NAME)));
    const results = await decodeDirectory(read, join(dir, 'restore'), bucket.get);
    expect(results.map((r) => r.name)).toEqual(names);
    for (const name of names) {
      const original = await readFile(join(dir, 'checkpoint', name));
      expect((await readFile(join(dir, 'restore', name))).equals(original)).toBe(true);
    }
  });

  it('fails the restore naming the file whose object was damaged', async () => {
    const bucket = store(join(dir, 'bucket'));
    const entries = await encodeDirectory(join(dir, 'checkpoint'), names, bucket.put);
    const manifest = createManifest({
      sandboxClass: 'gvisor',
      scope: 'Full',
      assets: { runsc: RUNSC },
      files: entries,
    });
    const damaged = join(dir, 'bucket', 'pages.img.zstd');
    const bytes = await readFile(damaged);
    await writeFile(damaged, bytes.subarray(0, bytes.length - 3));

    const error = await decodeDirectory(manifest, join(dir, 'restore'), bucket.get).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotIntegrityError);
    expect(error).toMatchObject({ code: 'TRUNCATED', fileName: 'pages.img' });
    expect(await listDir(join(dir, 'restore'))).not.toContain('pages.img');
  });

  it('passes an upload failure through and refuses unsafe names before reading anything', async () => {
    const failing = (): Promise<void> => Promise.reject(new Error('bucket is gone'));
    await expect(encodeDirectory(join(dir, 'checkpoint'), names, failing)).rejects.toThrow('bucket is gone');
    await expect(encodeDirectory(join(dir, 'checkpoint'), ['../etc/passwd'], failing)).rejects.toMatchObject({
      code: 'INVALID_FILE_NAME',
    });
  });
});
