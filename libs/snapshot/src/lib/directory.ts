import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Readable } from 'node:stream';

import { decodeToFile, type DecodeOptions, type DecodeResult } from './decode';
import { encodeFile, type EncodeOptions } from './encode';
import { type SnapshotFileEntry, type SnapshotManifest } from './manifest';
import { assertFileName, compressedObjectName } from './names';

/** Default number of files encoded or decoded at once by the directory helpers. */
export const DEFAULT_FILE_CONCURRENCY = 4;

/** Stores one compressed object (e.g. an object-store upload); must consume `body` to its end or reject. */
export type PutObject = (objectName: string, body: Readable) => Promise<void>;
/** Opens one compressed object for reading (e.g. an object-store download). */
export type GetObject = (objectName: string) => Promise<AsyncIterable<Uint8Array>>;

/** Options of {@link encodeDirectory}. */
export interface EncodeDirectoryOptions extends Omit<EncodeOptions, 'name'> {
  /** Files encoded at once; default {@link DEFAULT_FILE_CONCURRENCY}. */
  readonly concurrency?: number;
}

/** Options of {@link decodeDirectory}. */
export interface DecodeDirectoryOptions extends DecodeOptions {
  /** Files decoded at once; default {@link DEFAULT_FILE_CONCURRENCY}. */
  readonly concurrency?: number;
}

/** Runs `task` over `items` with at most `limit` in flight; stops starting new ones after the first failure. */
async function forEachLimited<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let firstError: unknown;
  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T);
      } catch (error) {
        if (!failed) firstError = error;
        failed = true;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  if (failed) throw firstError;
  return results;
}

/**
 * Encodes the files `names` (relative to `dir`) and hands each compressed stream to `put` as the object
 * `<name>.zstd`, several files at once. Returns the manifest entries in the order of `names`, ready for
 * `createManifest`. The caller writes the manifest itself, after this resolves, as the commit marker.
 *
 * On the first failure no further file is started and the error is thrown once the files in flight have
 * settled; objects already stored are left for the caller (or garbage collection) to remove.
 */
export async function encodeDirectory(
  dir: string,
  names: readonly string[],
  put: PutObject,
  options: EncodeDirectoryOptions = {},
): Promise<SnapshotFileEntry[]> {
  names.forEach(assertFileName);
  const { concurrency = DEFAULT_FILE_CONCURRENCY, ...encodeOptions } = options;
  return forEachLimited(names, concurrency, async (name) => {
    const encoded = encodeFile(join(dir, name), { ...encodeOptions, name });
    try {
      await put(compressedObjectName(name), encoded.stream);
    } catch (error) {
      encoded.stream.destroy();
      throw error;
    }
    return encoded.entry;
  });
}

/**
 * Restores every file of `manifest` under `dir` (creating subdirectories), reading each object through
 * `get`, several files at once. Each file is verified and published by rename on its own (see
 * `decodeToFile`); if one fails, the error is thrown after the files in flight settle and files restored
 * before it remain, so restore into a fresh directory and discard it on failure.
 *
 * @throws SnapshotIntegrityError naming the first file that failed verification.
 */
export async function decodeDirectory(
  manifest: SnapshotManifest,
  dir: string,
  get: GetObject,
  options: DecodeDirectoryOptions = {},
): Promise<DecodeResult[]> {
  const { concurrency = DEFAULT_FILE_CONCURRENCY, ...decodeOptions } = options;
  return forEachLimited(manifest.files, concurrency, async (entry) => {
    assertFileName(entry.name);
    const destination = join(dir, entry.name);
    await mkdir(dirname(destination), { recursive: true });
    const body = await get(compressedObjectName(entry.name));
    return decodeToFile(body, entry, destination, decodeOptions);
  });
}
