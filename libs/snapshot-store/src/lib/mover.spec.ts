import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { isIntegrityError } from '@substrate/snapshot';
import {
  AccessDeniedError,
  StorageUnavailableError,
  isStorageError,
  openObjectStore,
  type AbortIncompleteUploadsOptions,
  type GetOptions,
  type ListedObject,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from '@substrate/storage';

import { KiB, METADATA, MiB, fileSha256, useTempDir, writeCheckpointSet } from '../../test/helpers';
import {
  downloadSnapshot,
  isSnapshotStoreError,
  newSnapshotPrefix,
  readSnapshotManifest,
  uploadSnapshot,
  type TransferProgress,
} from '../index';

/**
 * The ObjectStore port with failures injected at its edge: wraps a real file:// store and makes chosen calls
 * fail the way a network store does (a put cut off, a download that breaks after its first bytes).
 */
class FlakyStore implements ObjectStore {
  readonly uri: string;
  /** Remaining failures per key suffix, and the error each throws. */
  readonly putFailures = new Map<string, { left: number; error: () => Error }>();
  readonly getFailures = new Map<string, { left: number; error: () => Error }>();
  readonly puts: string[] = [];
  readonly gets: string[] = [];

  constructor(private readonly inner: ObjectStore) {
    this.uri = inner.uri;
  }

  private take(table: Map<string, { left: number; error: () => Error }>, key: string): Error | undefined {
    for (const [suffix, failure] of table) {
      if (key.endsWith(suffix) && failure.left > 0) {
        failure.left--;
        return failure.error();
      }
    }
    return undefined;
  }

  async put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<void> {
    this.puts.push(key);
    const failure = this.take(this.putFailures, key);
    if (failure === undefined) return this.inner.put(key, body, options);
    // Read a little of the body, as an upload does before the connection drops, then give up.
    if (!Buffer.isBuffer(body)) {
      for await (const chunk of body) {
        void chunk;
        break;
      }
    }
    throw failure;
  }

  async get(key: string, options?: GetOptions): Promise<Readable> {
    this.gets.push(key);
    const failure = this.take(this.getFailures, key);
    const stream = await this.inner.get(key, options);
    if (failure === undefined) return stream;
    // Deliver the first 64 KiB, then fail as a reset connection does.
    async function* broken(): AsyncGenerator<Buffer> {
      let sent = 0;
      for await (const chunk of stream) {
        const piece = chunk as Buffer;
        yield piece.subarray(0, Math.min(piece.length, 64 * KiB - sent));
        sent += piece.length;
        if (sent >= 64 * KiB) break;
      }
      stream.destroy();
      throw failure;
    }
    return Readable.from(broken(), { objectMode: false });
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }

  list(prefix: string): AsyncIterable<ListedObject> {
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  deletePrefix(prefix: string): Promise<number> {
    return this.inner.deletePrefix(prefix);
  }

  abortIncompleteUploads(prefix: string, options: AbortIncompleteUploadsOptions): Promise<number> {
    return this.inner.abortIncompleteUploads(prefix, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const unavailable = (): Error => new StorageUnavailableError('connection reset by peer (injected)');
const denied = (): Error => new AccessDeniedError('injected');
const fastRetry = { initialDelayMs: 1, maxDelayMs: 2 };

describe('uploadSnapshot / downloadSnapshot (file://, with injected failures)', () => {
  let dir = '';
  useTempDir((made) => (dir = made));
  let source = '';
  let store: FlakyStore;
  let names: string[] = [];

  beforeEach(async () => {
    source = join(dir, 'checkpoint');
    await mkdir(source);
    names = await writeCheckpointSet(source, 24 * MiB);
    await mkdir(join(dir, 'store'));
    store = new FlakyStore(await openObjectStore(`file://${join(dir, 'store')}`));
  });

  async function expectRestored(dest: string): Promise<void> {
    for (const name of names) {
      expect(await fileSha256(join(dest, name))).toBe(await fileSha256(join(source, name)));
    }
  }

  it('round-trips a file set, reporting progress up to the totals', async () => {
    const prefix = newSnapshotPrefix('actor-1');
    const uploads: TransferProgress[] = [];
    const uploaded = await uploadSnapshot(store, prefix, source, names, {
      metadata: METADATA,
      onProgress: (p) => uploads.push(p),
    });
    expect(uploaded.manifest.snapshotFiles).toEqual(names);
    expect(store.puts[store.puts.length - 1]).toBe(`${prefix}/manifest.json`);
    const lastUp = uploads[uploads.length - 1];
    expect(lastUp).toMatchObject({ direction: 'upload', filesDone: 3, filesTotal: 3, retries: 0 });
    expect(lastUp?.bytesDone).toBe(lastUp?.bytesTotal);
    expect(lastUp?.bytesTotal).toBe(24 * MiB);

    const downloads: TransferProgress[] = [];
    const dest = join(dir, 'restore');
    const downloaded = await downloadSnapshot(store, prefix, dest, { onProgress: (p) => downloads.push(p) });
    expect(downloaded.files.map((f) => f.name)).toEqual(names);
    await expectRestored(dest);
    const lastDown = downloads[downloads.length - 1];
    expect(lastDown).toMatchObject({ direction: 'download', filesDone: 3, filesTotal: 3 });
    expect(lastDown?.bytesDone).toBe(uploaded.compressedBytes);
    expect(lastDown?.bytesTotal).toBe(uploaded.compressedBytes);
  });

  it('retries an upload cut off by a transient failure and still commits every file', async () => {
    store.putFailures.set('pages.img.zstd', { left: 2, error: unavailable });
    store.putFailures.set('manifest.json', { left: 1, error: unavailable });
    const retried: string[] = [];
    const prefix = newSnapshotPrefix('actor-1');
    let last: TransferProgress | undefined;
    const result = await uploadSnapshot(store, prefix, source, names, {
      metadata: METADATA,
      retry: fastRetry,
      onRetry: (r) => retried.push(`${r.fileName}#${r.attempt}`),
      onProgress: (p) => (last = p),
    });
    expect(result.retries).toBe(3);
    // Bytes of the failed attempts were taken back: the count ends exactly at the total.
    expect(last).toMatchObject({ bytesDone: 24 * MiB, bytesTotal: 24 * MiB, filesDone: 3, retries: 3 });
    expect(retried.sort()).toEqual(['manifest.json#1', 'pages.img#1', 'pages.img#2']);
    await downloadSnapshot(store, prefix, join(dir, 'restore'));
    await expectRestored(join(dir, 'restore'));
  });

  it('retries a download broken mid-stream and hands back only verified files', async () => {
    const prefix = newSnapshotPrefix('actor-1');
    await uploadSnapshot(store, prefix, source, names, { metadata: METADATA });
    store.getFailures.set('pages.img.zstd', { left: 2, error: unavailable });
    const result = await downloadSnapshot(store, prefix, join(dir, 'restore'), { retry: fastRetry });
    expect(result.retries).toBe(2);
    expect(store.gets.filter((key) => key.endsWith('pages.img.zstd'))).toHaveLength(3);
    await expectRestored(join(dir, 'restore'));
  });

  it('gives up after maxAttempts and does not commit the snapshot', async () => {
    store.putFailures.set('pages.img.zstd', { left: 10, error: unavailable });
    const prefix = newSnapshotPrefix('actor-1');
    const error: unknown = await uploadSnapshot(store, prefix, source, names, {
      metadata: METADATA,
      retry: { ...fastRetry, maxAttempts: 3 },
    }).catch((e: unknown) => e);
    expect(isStorageError(error, 'UNAVAILABLE')).toBe(true);
    expect(store.puts.filter((key) => key.endsWith('pages.img.zstd'))).toHaveLength(3);
    expect(store.puts).not.toContain(`${prefix}/manifest.json`);
    const readError: unknown = await readSnapshotManifest(store, prefix).catch((e: unknown) => e);
    expect(isSnapshotStoreError(readError, 'SNAPSHOT_NOT_FOUND')).toBe(true);
  });

  it('does not retry an error that is not transient', async () => {
    store.putFailures.set('checkpoint.img.zstd', { left: 1, error: denied });
    const prefix = newSnapshotPrefix('actor-1');
    const error: unknown = await uploadSnapshot(store, prefix, source, names, {
      metadata: METADATA,
      retry: fastRetry,
    }).catch((e: unknown) => e);
    expect(isStorageError(error, 'ACCESS_DENIED')).toBe(true);
    expect(store.puts.filter((key) => key.endsWith('checkpoint.img.zstd'))).toHaveLength(1);
    expect(store.puts).not.toContain(`${prefix}/manifest.json`);
  });

  it('stops on abort: rejects with TRANSFER_ABORTED and commits nothing', async () => {
    const controller = new AbortController();
    const prefix = newSnapshotPrefix('actor-1');
    const error: unknown = await uploadSnapshot(store, prefix, source, names, {
      metadata: METADATA,
      concurrency: 1,
      onProgress: (p) => {
        if (p.bytesDone > 0) controller.abort(new Error('suspend cancelled'));
      },
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(isSnapshotStoreError(error, 'TRANSFER_ABORTED')).toBe(true);
    expect((error as Error).cause).toEqual(new Error('suspend cancelled'));
    expect(store.puts).not.toContain(`${prefix}/manifest.json`);
  });

  it('stops a transfer stuck in retries when its deadline passes', async () => {
    const prefix = newSnapshotPrefix('actor-1');
    await uploadSnapshot(store, prefix, source, names, { metadata: METADATA });
    store.getFailures.set('pages.img.zstd', { left: 1000, error: unavailable });
    const dest = join(dir, 'restore');
    const error: unknown = await downloadSnapshot(store, prefix, dest, {
      retry: { maxAttempts: 1000, initialDelayMs: 5, maxDelayMs: 5 },
      deadlineMs: 200,
    }).catch((e: unknown) => e);
    expect(isSnapshotStoreError(error, 'DEADLINE_EXCEEDED')).toBe(true);
    // Files published before the failure are taken back: nothing half-restored is left.
    expect((await readdir(dest)).filter((name) => !name.startsWith('.'))).toEqual([]);
  });

  it('refuses a tampered object and takes back the files already restored', async () => {
    const prefix = newSnapshotPrefix('actor-1');
    await uploadSnapshot(store, prefix, source, names, { metadata: METADATA });
    // The last file in the manifest: the two before it are restored (and published) first.
    const object = join(dir, 'store', prefix, 'pages_meta.img.zstd');
    const bytes = await readFile(object);
    const middle = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0x01, middle);
    await writeFile(object, bytes);
    const dest = join(dir, 'restore');
    const error: unknown = await downloadSnapshot(store, prefix, dest, { concurrency: 1 }).catch(
      (e: unknown) => e,
    );
    expect(isIntegrityError(error)).toBe(true);
    expect((error as { fileName?: string }).fileName).toBe('pages_meta.img');
    expect((await readdir(dest)).filter((name) => !name.startsWith('.'))).toEqual([]);
  });

  it('reports a snapshot without a manifest as SNAPSHOT_NOT_FOUND', async () => {
    const prefix = newSnapshotPrefix('actor-1');
    await store.put(`${prefix}/pages.img.zstd`, Buffer.from('partial'));
    const error: unknown = await downloadSnapshot(store, prefix, join(dir, 'restore')).catch(
      (e: unknown) => e,
    );
    expect(isSnapshotStoreError(error, 'SNAPSHOT_NOT_FOUND')).toBe(true);
  });

  it('checks its options', async () => {
    const prefix = newSnapshotPrefix('actor-1');
    for (const options of [{ concurrency: 0 }, { retry: { maxAttempts: 0 } }, { deadlineMs: -1 }]) {
      const error: unknown = await downloadSnapshot(store, prefix, join(dir, 'restore'), options).catch(
        (e: unknown) => e,
      );
      expect(isSnapshotStoreError(error, 'INVALID_OPTION')).toBe(true);
    }
    const error: unknown = await downloadSnapshot(store, 'not-a-prefix', join(dir, 'restore')).catch(
      (e: unknown) => e,
    );
    expect(isSnapshotStoreError(error, 'INVALID_SNAPSHOT_PREFIX')).toBe(true);
  });
});
