import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { FileObjectStore } from './file-store';
import { openObjectStore } from './open';

describe('FileObjectStore', () => {
  let dir: string;
  let store: FileObjectStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'substrate-file-store-'));
    store = new FileObjectStore(join(dir, 'snapshots'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a key as a file under the base directory', async () => {
    await store.put('actor/snap/manifest.json', Buffer.from('{}'));
    expect(readdirSync(join(dir, 'snapshots/actor/snap'))).toEqual(['manifest.json']);
  });

  it('keeps the previous object and leaves no temp file when an upload stream fails', async () => {
    await store.put('obj', Buffer.from('committed'));
    async function* failing() {
      yield Buffer.from('partial data');
      throw new Error('checkpoint reader crashed');
    }
    await expect(store.put('obj', Readable.from(failing()))).rejects.toThrow('checkpoint reader crashed');
    expect((await buffer(await store.get('obj'))).toString()).toBe('committed');
    expect(readdirSync(join(dir, 'snapshots'))).toEqual(['obj']);
  });

  it('never lists an upload in progress', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* slow() {
      yield Buffer.from('first half');
      await gate;
      yield Buffer.from('second half');
    }
    const upload = store.put('a/slow', Readable.from(slow()));
    await store.put('a/fast', Buffer.from('x'));
    // Wait until the slow upload's temp file is on disk next to the committed object.
    const tempOnDisk = () => readdirSync(join(dir, 'snapshots/a')).some((name) => name.startsWith('.'));
    while (!tempOnDisk()) await new Promise((resolve) => setTimeout(resolve, 5));
    const during: string[] = [];
    for await (const { key } of store.list('a/')) during.push(key);
    expect(during).toEqual(['a/fast']);
    expect(await store.head('a/slow')).toBeUndefined();
    release();
    await upload;
    expect((await store.head('a/slow'))?.size).toBe('first halfsecond half'.length);
  });

  it('lists more than a thousand keys in order', async () => {
    // Written directly: this is about listing, and a thousand fsync'ed puts are slow on a busy machine.
    const keys = Array.from({ length: 1_100 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    await mkdir(join(dir, 'snapshots/many'), { recursive: true });
    await Promise.all(keys.map((key) => writeFile(join(dir, 'snapshots', key), 'k')));
    const listed: string[] = [];
    for await (const { key } of store.list('many/')) listed.push(key);
    expect(listed).toEqual(keys);
    expect(await store.deletePrefix('many/')).toBe(1_100);
    expect(readdirSync(join(dir, 'snapshots'))).toEqual([]);
  }, 30_000);

  it('deletes the temp files of killed uploads with their prefix, and their directories', async () => {
    await store.put('actor/snap/a.zstd', Buffer.from('stored'));
    // What a writer killed mid-upload leaves behind: a hidden temp file, never listed.
    await writeFile(join(dir, 'snapshots/actor/snap/.substrate-upload-0123456789abcdef'), 'partial');
    await mkdir(join(dir, 'snapshots/actor/other'), { recursive: true });
    await writeFile(join(dir, 'snapshots/actor/other/.substrate-upload-fedcba9876543210'), 'keep');
    expect(await store.deletePrefix('actor/snap/')).toBe(1);
    expect(existsSync(join(dir, 'snapshots/actor/snap'))).toBe(false);
    expect(readdirSync(join(dir, 'snapshots/actor/other'))).toEqual(['.substrate-upload-fedcba9876543210']);
  });

  it('aborts killed uploads by the age of their temp file, removing the directories they leave empty', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    // A snapshot killed during its first file: nothing but the temp file, two directories deep.
    await mkdir(join(dir, 'snapshots/actor/killed'), { recursive: true });
    await writeFile(join(dir, 'snapshots/actor/killed/.substrate-upload-0123456789abcdef'), 'partial');
    await utimes(join(dir, 'snapshots/actor/killed/.substrate-upload-0123456789abcdef'), hourAgo, hourAgo);
    // An upload still writing: its temp file changed a moment ago.
    await mkdir(join(dir, 'snapshots/actor/running'), { recursive: true });
    await writeFile(join(dir, 'snapshots/actor/running/.substrate-upload-fedcba9876543210'), 'growing');
    const cutoff = new Date(Date.now() - 60_000);

    expect(await store.abortIncompleteUploads('actor/', { startedBefore: cutoff, dryRun: true })).toBe(1);
    expect(readdirSync(join(dir, 'snapshots/actor')).sort()).toEqual(['killed', 'running']);
    expect(await store.abortIncompleteUploads('actor/', { startedBefore: cutoff })).toBe(1);
    expect(readdirSync(join(dir, 'snapshots/actor'))).toEqual(['running']);
    expect(await store.abortIncompleteUploads('actor/running/', { startedBefore: new Date() })).toBe(1);
    expect(readdirSync(join(dir, 'snapshots'))).toEqual([]);
    expect(await store.abortIncompleteUploads('', { startedBefore: new Date() })).toBe(0);
  });

  it('removes directories a delete leaves empty, but not the base', async () => {
    await store.put('actor/snap/a', Buffer.from('a'));
    await store.deletePrefix('actor/');
    expect(readdirSync(join(dir, 'snapshots'))).toEqual([]);
  });

  it('lists nothing and finds nothing when the base directory does not exist yet', async () => {
    const listed: string[] = [];
    for await (const { key } of store.list('')) listed.push(key);
    expect(listed).toEqual([]);
    expect(await store.head('x')).toBeUndefined();
    await expect(store.get('x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('treats a directory as no object', async () => {
    await store.put('d/x', Buffer.from('x'));
    expect(await store.head('d')).toBeUndefined();
    await expect(store.get('d')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('openObjectStore', () => {
  it('chooses the adapter by scheme without contacting the backend', async () => {
    const file = await openObjectStore('file:///tmp/substrate-snapshots/');
    expect(file.uri).toBe('file:///tmp/substrate-snapshots');
    const s3 = await openObjectStore('s3://bucket/tmpl', { s3: { endpoint: 'http://127.0.0.1:1' } });
    expect(s3.uri).toBe('s3://bucket/tmpl/');
    const gs = await openObjectStore('gs://bucket', { gcs: { apiEndpoint: 'http://127.0.0.1:1' } });
    expect(gs.uri).toBe('gs://bucket/');
    await Promise.all([file.close(), s3.close(), gs.close()]);
  });

  it('rejects an unknown scheme with a precise error', async () => {
    await expect(openObjectStore('ftp://host/x')).rejects.toThrow(
      'invalid snapshot location "ftp://host/x": unsupported scheme "ftp:" (use file://, s3:// or gs://)',
    );
  });

  it('keeps uploads atomic on a real directory (no stray files after success)', async () => {
    const base = await mkdtemp(join(tmpdir(), 'substrate-open-'));
    try {
      const store = await openObjectStore(`file://${base}`);
      await store.put('k', Readable.from([Buffer.alloc(1024, 1)]), { contentLength: 1024 });
      expect(readdirSync(base)).toEqual(['k']);
      expect(existsSync(join(base, 'k'))).toBe(true);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

describe('openObjectStore configuration checks', () => {
  it.each([
    [
      { s3: { partSizeBytes: 1024 } },
      's3.partSizeBytes: 1024 is not an integer between 5242880 and 5368709120',
    ],
    [{ s3: { endpoint: '127.0.0.1:9000' } }, 's3.endpoint: "127.0.0.1:9000" is not a URL'],
    [
      { s3: { endpoint: 'ftp://127.0.0.1' } },
      's3.endpoint: "ftp://127.0.0.1" must be an http:// or https:// URL',
    ],
    [{ s3: { maxAttempts: 0 } }, 's3.maxAttempts: 0 is not an integer between 1 and 10'],
    [{ listPageSize: 5000 }, 'listPageSize: 5000 is not an integer between 1 and 1000'],
    [{ timeouts: { operationMs: -1 } }, 'timeouts.operationMs: -1 is not an integer ≥ 1'],
    [{ gcs: { chunkSizeBytes: 300_000 } }, 'gcs.chunkSizeBytes: 300000 is not a multiple of 256 KiB'],
    [{ gcs: { apiEndpoint: 'not a url' } }, 'gcs.apiEndpoint: "not a url" is not a URL'],
  ])('rejects %j, naming the setting', async (config, message) => {
    await expect(openObjectStore('s3://bucket/x', config)).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: `invalid storage setting ${message}`,
    });
  });
});
