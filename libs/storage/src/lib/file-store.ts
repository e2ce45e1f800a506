import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AccessDeniedError,
  InvalidRangeError,
  ObjectNotFoundError,
  SizeMismatchError,
  StorageError,
} from './errors';
import type {
  AbortIncompleteUploadsOptions,
  GetOptions,
  ListedObject,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from './object-store';
import { bodyStream, checkRange, sizeGuard } from './streams';
import { validateKey, validatePrefix } from './uri';

/**
 * Bytes per read of a `get` stream: 1 MiB rather than Node's 64 KiB, so a snapshot download makes 16 times fewer
 * reads and hands the decoder 16 times fewer chunks (about 10% less CPU for a whole restore, measured).
 */
const READ_CHUNK = 1024 * 1024;

/**
 * Name prefix of the temp files of uploads in progress: never listed, removed when the upload fails, and by
 * {@link FileObjectStore.abortIncompleteUploads} when its writer died. Exported for tests that need to leave
 * what a killed writer leaves; not part of the package's API.
 */
export const TEMP_MARKER = '.substrate-upload-';

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function mapFsError(err: unknown, key: string): Error {
  if (err instanceof StorageError) return err;
  const code = errnoOf(err);
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR')
    return new ObjectNotFoundError(key, { cause: err });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new AccessDeniedError(`object "${key}": ${(err as Error).message}`, { cause: err });
  }
  return new StorageError('STORAGE_ERROR', `object "${key}": ${(err as Error).message}`, { cause: err });
}

/** Bytes of an object written between two background datasyncs of its temp file. */
const WRITEBACK_BYTES = 8 * 1024 * 1024;

/**
 * `file://` adapter: objects are files under a base directory (`key` `a/b` is `<base>/a/b`). A put streams
 * into a temp file in the target directory, fsyncs it and renames it over the target, so readers see the
 * old or the new object, never a partial one, even across a crash.
 */
export class FileObjectStore implements ObjectStore {
  readonly uri: string;

  constructor(readonly baseDir: string) {
    this.uri = `file://${baseDir}`;
  }

  private pathOf(key: string): string {
    return join(this.baseDir, validateKey(key));
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<void> {
    const target = this.pathOf(key);
    const dir = dirname(target);
    const temp = join(dir, `${TEMP_MARKER}${randomBytes(8).toString('hex')}`);
    try {
      // A concurrent delete may prune the freshly created directory; try once more if it vanished.
      for (let attempt = 0; ; attempt++) {
        await fs.mkdir(dir, { recursive: true });
        try {
          await fs.writeFile(temp, '', { flag: 'wx' });
          break;
        } catch (err) {
          if (errnoOf(err) !== 'ENOENT' || attempt > 0) throw err;
        }
      }
      if (
        Buffer.isBuffer(body) &&
        options.contentLength !== undefined &&
        body.length !== options.contentLength
      ) {
        throw new SizeMismatchError(key, options.contentLength, body.length);
      }
      // Syncing through a descriptor of its own flushes the file's pages whoever wrote them.
      const handle = await fs.open(temp, 'r');
      try {
        // Write-back while the body still streams: a datasync every WRITEBACK_BYTES (one at a time) puts
        // most of the object on disk while its producer is still busy, so the final fsync waits only for
        // the tail instead of the whole object.
        let syncedTo = 0;
        let syncing: Promise<void> | undefined;
        const guard = sizeGuard(key, options.contentLength, () => {
          if (syncing !== undefined || guard.bytes - syncedTo < WRITEBACK_BYTES) return;
          syncedTo = guard.bytes;
          syncing = handle.datasync().then(
            () => (syncing = undefined),
            () => (syncing = undefined), // the final sync reports any failure
          );
        });
        await pipeline(bodyStream(body), guard, createWriteStream(temp, { flags: 'r+' }));
        await syncing;
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, target);
      await syncDir(dir);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw mapFsError(err, key);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const path = this.pathOf(key);
    const { range } = options;
    checkRange(key, range);
    // Open first: the stream then reads the file that existed at this moment, even if it is replaced.
    const handle = await fs.open(path, 'r').catch((err: unknown) => {
      throw mapFsError(err, key);
    });
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new ObjectNotFoundError(key);
      if (range !== undefined && range.start >= stat.size) throw new InvalidRangeError(key, range);
      return createReadStream('', {
        fd: handle,
        highWaterMark: READ_CHUNK,
        start: range?.start,
        end: range === undefined ? undefined : Math.min(range.end, stat.size - 1),
      });
    } catch (err) {
      await handle.close();
      throw mapFsError(err, key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const stat = await fs.stat(this.pathOf(key));
      if (!stat.isFile()) return undefined;
      return {
        size: stat.size,
        etag: `${stat.size.toString(16)}-${Math.trunc(stat.mtimeMs * 1000).toString(16)}`,
      };
    } catch (err) {
      const mapped = mapFsError(err, key);
      if (mapped instanceof ObjectNotFoundError) return undefined;
      throw mapped;
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    validatePrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const startDir = slash < 0 ? '' : prefix.slice(0, slash);
    yield* this.walk(startDir, prefix);
  }

  /** Depth-first walk in key order: a directory `d` sorts as `d/`, so `a-b` comes before `a/…`. */
  private async *walk(relDir: string, prefix: string): AsyncGenerator<ListedObject> {
    let entries;
    try {
      entries = await fs.readdir(join(this.baseDir, relDir), { withFileTypes: true });
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw mapFsError(err, relDir);
    }
    const named = entries
      .filter((e) => (e.isFile() && !e.name.startsWith(TEMP_MARKER)) || e.isDirectory())
      .map((e) => ({ entry: e, sortKey: e.isDirectory() ? `${e.name}/` : e.name }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const { entry, sortKey } of named) {
      const key = relDir === '' ? sortKey : `${relDir}/${sortKey}`;
      if (entry.isDirectory()) {
        // Descend only where keys below can still match the prefix.
        if (key.startsWith(prefix) || prefix.startsWith(key)) yield* this.walk(key.slice(0, -1), prefix);
      } else if (key.startsWith(prefix)) {
        try {
          const stat = await fs.stat(join(this.baseDir, key));
          yield { key, size: stat.size };
        } catch (err) {
          if (errnoOf(err) !== 'ENOENT') throw mapFsError(err, key); // deleted while listing
        }
      }
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await fs.unlink(path);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw mapFsError(err, key);
    }
    await this.pruneEmptyDirs(dirname(path));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys: string[] = [];
    for await (const { key } of this.list(prefix)) keys.push(key);
    for (const key of keys) await this.delete(key);
    // A writer killed mid-upload leaves its temp file behind, never listed: without this a deleted prefix would
    // keep its directory and those bytes forever. An upload still running there fails instead of committing.
    for await (const temp of this.uploadTemps(prefix)) await this.removeTemp(temp.path);
    return keys.length;
  }

  async abortIncompleteUploads(prefix: string, options: AbortIncompleteUploadsOptions): Promise<number> {
    const cutoff = options.startedBefore.getTime();
    let count = 0;
    for await (const temp of this.uploadTemps(prefix)) {
      if (temp.mtimeMs >= cutoff || (options.filter !== undefined && !options.filter(temp.key))) continue;
      if (options.dryRun === true || (await this.removeTemp(temp.path))) count++;
    }
    return count;
  }

  /**
   * The temp files of uploads under `prefix`: those in a directory whose keys all start with it (`a/b/` for
   * the prefixes `''`, `a/`, `a/b` and `a/b/`), depth first. The key of a temp file is its own, in its
   * target's directory; the target's name is not recorded anywhere.
   */
  private async *uploadTemps(
    prefix: string,
    relDir = prefix.slice(0, Math.max(0, prefix.lastIndexOf('/'))),
  ): AsyncGenerator<{ key: string; path: string; mtimeMs: number }> {
    validatePrefix(prefix);
    let entries;
    try {
      entries = await fs.readdir(join(this.baseDir, relDir), { withFileTypes: true });
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return; // gone, or not a directory: nothing to sweep
      throw mapFsError(err, relDir);
    }
    const dirKey = relDir === '' ? '' : `${relDir}/`;
    for (const entry of entries) {
      const key = `${dirKey}${entry.name}`;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`))
          yield* this.uploadTemps(prefix, key);
      } else if (entry.isFile() && entry.name.startsWith(TEMP_MARKER) && dirKey.startsWith(prefix)) {
        const path = join(this.baseDir, key);
        try {
          yield { key, path, mtimeMs: (await fs.stat(path)).mtimeMs };
        } catch (err) {
          if (errnoOf(err) !== 'ENOENT') throw mapFsError(err, key); // committed or removed meanwhile
        }
      }
    }
  }

  /** Removes an upload's temp file and the directories that leaves empty; false when it was gone already. */
  private async removeTemp(path: string): Promise<boolean> {
    try {
      await fs.unlink(path);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return false;
      throw mapFsError(err, path.slice(this.baseDir.length + 1));
    }
    await this.pruneEmptyDirs(dirname(path));
    return true;
  }

  async close(): Promise<void> {
    // Nothing to release.
  }

  /** Removes directories left empty by a delete, up to (not including) the base directory. */
  private async pruneEmptyDirs(dir: string): Promise<void> {
    for (let current = dir; current.startsWith(`${this.baseDir}/`); current = dirname(current)) {
      try {
        await fs.rmdir(current);
      } catch {
        return; // not empty (or already gone, or in use): stop
      }
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
