import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { isStorageError, type ObjectStore } from '../src/index';

const MiB = 1024 * 1024;

/** Creates a store rooted at a fresh, empty location; `listPageSize` is honoured where the backend pages. */
export type StoreFactory = (options: { listPageSize?: number }) => Promise<ObjectStore>;

/**
 * How a backend's incomplete uploads are made and counted by the contract, beside the store under test (each
 * backend leaves something different behind when a writer dies mid-upload).
 */
export interface IncompleteUploads {
  /** Leaves behind what a writer killed while uploading `key` into `store` leaves. */
  start(store: ObjectStore, key: string): Promise<void>;
  /** How many incomplete uploads the backend itself holds under `prefix` of `store`. */
  count(store: ObjectStore, prefix: string): Promise<number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A deterministic pseudo-random stream of `size` bytes (a multiple of 4) in 1 MiB chunks, and its sha256. */
function generated(size: number, seed: number): { stream: Readable; sha256: string } {
  const chunks: Buffer[] = [];
  let state = seed >>> 0 || 1;
  for (let done = 0; done < size; done += MiB) {
    const chunk = Buffer.allocUnsafe(Math.min(MiB, size - done));
    for (let i = 0; i < chunk.length; i += 4) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      chunk.writeUInt32LE(state >>> 0, i);
    }
    chunks.push(chunk);
  }
  const sha256 = createHash('sha256');
  for (const chunk of chunks) sha256.update(chunk);
  // Readable.from yields the chunks one by one: the store sees a stream, not a Buffer.
  return { stream: Readable.from(chunks), sha256: sha256.digest('hex') };
}

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function read(
  store: ObjectStore,
  key: string,
  range?: { start: number; end: number },
): Promise<Buffer> {
  return buffer(await store.get(key, range === undefined ? {} : { range }));
}

async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of store.list(prefix)) out.push(entry.key);
  return out;
}

/**
 * The behaviour every {@link ObjectStore} adapter must show, run against each backend with the same tests.
 * `makeStore` must give each call its own empty location. `incompleteUploads` is left out for a backend whose
 * incomplete uploads cannot be listed (gs://), whose `abortIncompleteUploads` then only has to find none.
 */
export function objectStoreContract(
  name: string,
  makeStore: StoreFactory,
  incompleteUploads?: IncompleteUploads,
): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    const opened: ObjectStore[] = [];
    const open = async (options: { listPageSize?: number } = {}) => {
      const s = await makeStore(options);
      opened.push(s);
      return s;
    };

    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('round-trips a small object and reports its size', async () => {
      const body = Buffer.from('{"sandboxClass":"gvisor"}');
      await store.put('actor-1/snap/manifest.json', body);
      expect(await read(store, 'actor-1/snap/manifest.json')).toEqual(body);
      expect((await store.head('actor-1/snap/manifest.json'))?.size).toBe(body.length);
    });

    it('round-trips an empty object', async () => {
      await store.put('empty', Buffer.alloc(0));
      expect(await read(store, 'empty')).toHaveLength(0);
      expect((await store.head('empty'))?.size).toBe(0);
    });

    it('streams a ~20 MiB object up and down byte-identical', async () => {
      const size = 20 * MiB + 12_344; // not a multiple of the part size
      const { stream, sha256 } = generated(size, 42);
      await store.put('big/pages.img.zstd', stream);
      expect((await store.head('big/pages.img.zstd'))?.size).toBe(size);
      expect(await sha256Of(await store.get('big/pages.img.zstd'))).toBe(sha256);
    });

    it('accepts a stream with a matching contentLength and rejects a mismatch without committing it', async () => {
      await store.put('sized', Readable.from([Buffer.from('abc'), Buffer.from('def')]), { contentLength: 6 });
      expect((await read(store, 'sized')).toString()).toBe('abcdef');
      await expect(
        store.put('sized', Readable.from([Buffer.from('abcdefgh')]), { contentLength: 6 }),
      ).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
      expect((await read(store, 'sized')).toString()).toBe('abcdef');
    });

    it('commits nothing when the upload stream fails midway, keeping the previous object', async () => {
      await store.put('torn/pages.img.zstd', Buffer.from('previous snapshot'));
      async function* torn() {
        for (let i = 0; i < 7; i++) yield Buffer.alloc(MiB, i); // past one S3 part: a multipart upload
        throw new Error('checkpoint reader crashed');
      }
      await expect(store.put('torn/pages.img.zstd', Readable.from(torn()))).rejects.toThrow(
        /checkpoint reader crashed/,
      );
      expect((await read(store, 'torn/pages.img.zstd')).toString()).toBe('previous snapshot');
      await expect(store.put('torn/new', Readable.from(torn()))).rejects.toThrow(/checkpoint reader crashed/);
      expect(await store.head('torn/new')).toBeUndefined();
      expect(await keys(store, 'torn/')).toEqual(['torn/pages.img.zstd']);
    });

    it('reads inclusive byte ranges, clamping the end to the object', async () => {
      const body = randomBytes(4096);
      await store.put('ranged', body);
      expect(await read(store, 'ranged', { start: 0, end: 0 })).toEqual(body.subarray(0, 1));
      expect(await read(store, 'ranged', { start: 100, end: 1123 })).toEqual(body.subarray(100, 1124));
      expect(await read(store, 'ranged', { start: 4000, end: 9999 })).toEqual(body.subarray(4000));
      await expect(store.get('ranged', { range: { start: 4096, end: 5000 } })).rejects.toMatchObject({
        code: 'INVALID_RANGE',
      });
      await expect(store.get('ranged', { range: { start: 10, end: 5 } })).rejects.toMatchObject({
        code: 'INVALID_RANGE',
      });
    });

    it('reports a missing object: head → undefined, get → NOT_FOUND', async () => {
      expect(await store.head('nope/manifest.json')).toBeUndefined();
      const err: unknown = await store.get('nope/manifest.json').catch((e: unknown) => e);
      expect(isStorageError(err, 'NOT_FOUND')).toBe(true);
      expect(err).toMatchObject({ name: 'ObjectNotFoundError', key: 'nope/manifest.json' });
    });

    it('rejects keys that are not clean relative paths', async () => {
      for (const key of ['', '/abs', 'a/../b', 'a//b', './a', 'a\\b']) {
        await expect(store.put(key, Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_KEY' });
      }
      await expect(store.get('../escape')).rejects.toMatchObject({ code: 'INVALID_KEY' });
    });

    it('lists by string prefix in key order, with sizes', async () => {
      const layout: Record<string, number> = {
        'a/1': 1,
        'a/2': 2,
        'a/b/3': 3,
        'a-c': 4,
        'ab/4': 5,
        'b/5': 6,
      };
      for (const [key, size] of Object.entries(layout)) await store.put(key, Buffer.alloc(size, 1));
      expect(await keys(store, 'a/')).toEqual(['a/1', 'a/2', 'a/b/3']);
      expect(await keys(store, 'a')).toEqual(['a-c', 'a/1', 'a/2', 'a/b/3', 'ab/4']);
      expect(await keys(store, 'a/b')).toEqual(['a/b/3']);
      expect(await keys(store, 'zzz')).toEqual([]);
      const all: Record<string, number> = {};
      for await (const { key, size } of store.list('')) all[key] = size;
      expect(all).toEqual(layout);
    });

    it('lists across several pages', async () => {
      const paged = await open({ listPageSize: 3 });
      const expected = Array.from({ length: 11 }, (_, i) => `p/${String(i).padStart(3, '0')}`);
      await Promise.all(expected.map((key) => paged.put(key, Buffer.from(key))));
      expect(await keys(paged, 'p/')).toEqual(expected);
    });

    it('overwrites an object', async () => {
      await store.put('over', Buffer.from('first version, longer'));
      await store.put('over', Buffer.from('second'));
      expect((await read(store, 'over')).toString()).toBe('second');
      expect((await store.head('over'))?.size).toBe(6);
    });

    it('deletes an object, and deleting a missing one is not an error', async () => {
      await store.put('del/x', Buffer.from('x'));
      await store.put('del/y', Buffer.from('y'));
      await store.delete('del/x');
      expect(await store.head('del/x')).toBeUndefined();
      expect(await keys(store, 'del/')).toEqual(['del/y']);
      await expect(store.delete('del/x')).resolves.toBeUndefined();
    });

    it('deletes every object under a prefix and counts them', async () => {
      for (const key of ['snap/1/a', 'snap/1/b', 'snap/10/c', 'snap/2/d', 'other']) {
        await store.put(key, Buffer.from(key));
      }
      expect(await store.deletePrefix('snap/1/')).toBe(2);
      expect(await keys(store, '')).toEqual(['other', 'snap/10/c', 'snap/2/d']);
      expect(await store.deletePrefix('snap/')).toBe(2);
      expect(await store.deletePrefix('snap/')).toBe(0);
      expect(await keys(store, '')).toEqual(['other']);
    });

    it('never counts or touches a completed object when aborting incomplete uploads', async () => {
      await store.put('snap/a/small.zstd', Buffer.from('committed'));
      await store.put('snap/a/multi.zstd', generated(6 * MiB, 7).stream); // past one S3 part: multipart
      const future = new Date(Date.now() + 3_600_000);
      expect(await store.abortIncompleteUploads('', { startedBefore: future, dryRun: true })).toBe(0);
      expect(await store.abortIncompleteUploads('', { startedBefore: future })).toBe(0);
      expect(await keys(store, '')).toEqual(['snap/a/multi.zstd', 'snap/a/small.zstd']);
      expect((await read(store, 'snap/a/small.zstd')).toString()).toBe('committed');
      await expect(store.abortIncompleteUploads('/abs', { startedBefore: future })).rejects.toMatchObject({
        code: 'INVALID_KEY',
      });
    });

    if (incompleteUploads === undefined) return;
    const uploads = incompleteUploads;

    it('aborts the incomplete uploads under a prefix that started before the cut-off, and counts them', async () => {
      const paged = await open({ listPageSize: 2 }); // several pages of uploads
      await paged.put('snap/a/done.zstd', Buffer.from('committed'));
      for (const key of ['snap/a/1.zstd', 'snap/a/2.zstd', 'snap/a/3.zstd', 'other/x/1.zstd']) {
        await uploads.start(paged, key);
      }
      // S3 records the start to the second on some servers: keep a clear second either side of the cut-off.
      await sleep(1_100);
      const cutoff = new Date();
      await sleep(1_100);
      await uploads.start(paged, 'snap/b/1.zstd');
      expect(await uploads.count(paged, '')).toBe(5);

      expect(await paged.abortIncompleteUploads('snap/', { startedBefore: cutoff, dryRun: true })).toBe(3);
      expect(await uploads.count(paged, '')).toBe(5);
      expect(await paged.abortIncompleteUploads('snap/', { startedBefore: cutoff })).toBe(3);
      expect(await uploads.count(paged, 'snap/a/')).toBe(0);
      expect(await uploads.count(paged, 'snap/b/')).toBe(1); // started after the cut-off
      expect(await uploads.count(paged, 'other/')).toBe(1); // outside the prefix
      expect(await paged.abortIncompleteUploads('snap/', { startedBefore: cutoff })).toBe(0);

      const future = new Date(Date.now() + 3_600_000);
      const onlyOther = (key: string) => key.startsWith('other/');
      expect(await paged.abortIncompleteUploads('', { startedBefore: future, filter: onlyOther })).toBe(1);
      expect(await uploads.count(paged, '')).toBe(1);
      expect(await paged.abortIncompleteUploads('', { startedBefore: future })).toBe(1);
      expect(await uploads.count(paged, '')).toBe(0);
      // The completed object beside them is untouched.
      expect(await keys(paged, '')).toEqual(['snap/a/done.zstd']);
      expect((await read(paged, 'snap/a/done.zstd')).toString()).toBe('committed');
    });
  });
}
