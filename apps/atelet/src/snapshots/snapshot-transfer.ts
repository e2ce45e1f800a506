import { link, copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  isIntegrityError,
  isSnapshotError,
  type RuntimeAsset,
  type SnapshotManifest,
} from '@substrate/snapshot';
import {
  downloadSnapshot,
  isSnapshotStoreError,
  parseSnapshotPrefix,
  uploadSnapshot,
} from '@substrate/snapshot-store';
import { isStorageError, openObjectStore, type ObjectStoreConfig } from '@substrate/storage';
import {
  AteletError,
  InvalidRequestError,
  SnapshotIntegrityError,
  SnapshotNotFoundError,
  StorageFailureError,
} from '../errors/atelet-error';
import { type Scope } from '../herder/herder-request';

/** What a snapshot records besides its files: the runtime it was taken with, and its scope. */
export interface SnapshotRuntime {
  readonly scope: Scope;
  readonly assets: Readonly<Record<string, RuntimeAsset>>;
}

/** A snapshot that was fetched into a restore directory. */
export interface FetchedSnapshot {
  readonly files: readonly string[];
  readonly assets: Readonly<Record<string, RuntimeAsset>>;
  readonly scope: Scope;
  readonly bytes: number;
}

/** The node-local manifest of a LOCAL snapshot (`local-checkpoint/<prefix>/manifest.json`). */
interface LocalManifest {
  readonly sandboxClass: 'gvisor';
  readonly scope: Scope;
  readonly assets: Readonly<Record<string, RuntimeAsset>>;
  readonly snapshotFiles: readonly string[];
  readonly sizes: Readonly<Record<string, number>>;
  readonly createdAt: string;
}

/**
 * Splits an EXTERNAL snapshot URI into the store location and the snapshot-store prefix
 * (`<location>/<actor>/<time>-<random>` → `<location>`, `<actor>/<time>-<random>`).
 */
export function splitSnapshotUri(uri: string): { location: string; prefix: string } {
  const trimmed = uri.replace(/\/+$/, '');
  const last = trimmed.lastIndexOf('/');
  const second = last > 0 ? trimmed.lastIndexOf('/', last - 1) : -1;
  const schemeEnd = trimmed.indexOf('://') + 2;
  if (second <= schemeEnd) {
    throw new InvalidRequestError(
      'external_config.snapshot_uri_prefix',
      `${JSON.stringify(uri)} must end in <actor>/<RFC 3339 time>-<26 base32>`,
    );
  }
  const prefix = trimmed.slice(second + 1);
  try {
    parseSnapshotPrefix(prefix);
  } catch (error) {
    throw new InvalidRequestError('external_config.snapshot_uri_prefix', (error as Error).message);
  }
  return { location: trimmed.slice(0, second), prefix };
}

/** Turns a storage or snapshot library failure into atelet's error for the caller. */
function transferError(where: string, error: unknown, direction: 'upload' | 'download'): Error {
  if (error instanceof AteletError) return error;
  if (isSnapshotStoreError(error)) {
    if (error.code === 'SNAPSHOT_NOT_FOUND') {
      return direction === 'upload'
        ? new StorageFailureError('FAILED_PRECONDITION', `cannot store snapshot ${where}: ${error.message}`, {
            cause: error,
          })
        : new SnapshotNotFoundError(where, { cause: error });
    }
    if (error.code === 'DEADLINE_EXCEEDED')
      return new StorageFailureError('DEADLINE_EXCEEDED', `transfer of ${where}: ${error.message}`, {
        cause: error,
      });
    if (error.code === 'INVALID_SNAPSHOT_PREFIX')
      return new InvalidRequestError('snapshot_uri_prefix', error.message);
    return new StorageFailureError('INTERNAL', `transfer of ${where}: ${error.message}`, { cause: error });
  }
  if (
    isIntegrityError(error) ||
    (isSnapshotError(error) &&
      ['MANIFEST_SYNTAX', 'MANIFEST_INVALID', 'UNSUPPORTED_FORMAT'].includes(error.code))
  ) {
    return new SnapshotIntegrityError(where, error.message, { cause: error });
  }
  if (isSnapshotError(error))
    return new StorageFailureError('INTERNAL', `snapshot ${where}: ${error.message}`, { cause: error });
  if (isStorageError(error)) {
    const hint =
      error.code === 'TIMEOUT'
        ? 'DEADLINE_EXCEEDED'
        : error.code === 'ACCESS_DENIED' || error.code === 'BAD_CREDENTIALS'
          ? 'PERMISSION_DENIED'
          : error.code === 'UNAVAILABLE'
            ? 'UNAVAILABLE'
            : 'INTERNAL';
    if (error.code === 'BUCKET_NOT_FOUND' || error.code === 'NOT_FOUND') {
      return direction === 'upload'
        ? new StorageFailureError('FAILED_PRECONDITION', `cannot store snapshot ${where}: ${error.message}`, {
            cause: error,
          })
        : new SnapshotNotFoundError(where, { cause: error });
    }
    return new StorageFailureError(hint, `storage error for ${where}: ${error.message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

const SCOPE_NAME = { full: 'Full', data: 'Data' } as const;

/**
 * Moves snapshot files between the node and their home: EXTERNAL through the snapshot-store mover (parallel,
 * zstd, checksums, manifest last), LOCAL within the actor's directory on this node.
 */
export class SnapshotTransfer {
  constructor(
    private readonly storage: ObjectStoreConfig,
    private readonly timeoutMs: number,
  ) {}

  /** Uploads `files` of `dir` to `uri`; resolves once the manifest (the commit marker) is written. */
  async uploadExternal(
    uri: string,
    dir: string,
    files: readonly string[],
    runtime: SnapshotRuntime,
  ): Promise<{ compressedBytes: number }> {
    const { location, prefix } = splitSnapshotUri(uri);
    try {
      const store = await openObjectStore(location, this.storage);
      try {
        const result = await uploadSnapshot(store, prefix, dir, files, {
          metadata: { sandboxClass: 'gvisor', scope: SCOPE_NAME[runtime.scope], assets: runtime.assets },
          deadlineMs: this.timeoutMs,
        });
        return { compressedBytes: result.compressedBytes };
      } finally {
        await store.close();
      }
    } catch (error) {
      throw transferError(uri, error, 'upload');
    }
  }

  /** Downloads and verifies the snapshot at `uri` into `destDir`; nothing unverified is left there. */
  async downloadExternal(uri: string, destDir: string): Promise<FetchedSnapshot> {
    const { location, prefix } = splitSnapshotUri(uri);
    try {
      const store = await openObjectStore(location, this.storage);
      try {
        const result = await downloadSnapshot(store, prefix, destDir, { deadlineMs: this.timeoutMs });
        return fetched(result.manifest);
      } finally {
        await store.close();
      }
    } catch (error) {
      throw transferError(uri, error, 'download');
    }
  }

  /** Moves `files` from `fromDir` into `snapshotDir` and writes its manifest last. */
  async saveLocal(
    fromDir: string,
    snapshotDir: string,
    files: readonly string[],
    runtime: SnapshotRuntime,
  ): Promise<void> {
    await rm(snapshotDir, { recursive: true, force: true });
    await mkdir(snapshotDir, { recursive: true, mode: 0o700 });
    const sizes: Record<string, number> = {};
    for (const file of files) {
      await rename(join(fromDir, file), join(snapshotDir, file));
      sizes[file] = (await stat(join(snapshotDir, file))).size;
    }
    const manifest: LocalManifest = {
      sandboxClass: 'gvisor',
      scope: runtime.scope,
      assets: runtime.assets,
      snapshotFiles: files,
      sizes,
      createdAt: new Date().toISOString(),
    };
    await writeFile(join(snapshotDir, '.manifest.json.tmp'), JSON.stringify(manifest), { mode: 0o600 });
    await rename(join(snapshotDir, '.manifest.json.tmp'), join(snapshotDir, 'manifest.json'));
  }

  /** Puts the LOCAL snapshot's files into `destDir` (hard links; copies across file systems); sizes checked. */
  async fetchLocal(snapshotDir: string, destDir: string): Promise<FetchedSnapshot> {
    let manifest: LocalManifest;
    try {
      manifest = JSON.parse(await readFile(join(snapshotDir, 'manifest.json'), 'utf8')) as LocalManifest;
    } catch (error) {
      throw new SnapshotNotFoundError(snapshotDir, { cause: error });
    }
    await mkdir(destDir, { recursive: true, mode: 0o700 });
    let bytes = 0;
    for (const file of manifest.snapshotFiles) {
      const source = join(snapshotDir, file);
      const size = await stat(source)
        .then((s) => s.size)
        .catch(() => -1);
      if (size !== manifest.sizes[file]) {
        throw new SnapshotIntegrityError(
          snapshotDir,
          `${file} has ${size} bytes, the manifest says ${String(manifest.sizes[file])}`,
        );
      }
      bytes += size;
      await link(source, join(destDir, file)).catch(() => copyFile(source, join(destDir, file)));
    }
    return { files: manifest.snapshotFiles, assets: manifest.assets, scope: manifest.scope, bytes };
  }
}

function fetched(manifest: SnapshotManifest): FetchedSnapshot {
  return {
    files: manifest.snapshotFiles,
    assets: manifest.assets,
    scope: manifest.scope === 'Data' ? 'data' : 'full',
    bytes: manifest.files.reduce((sum, file) => sum + file.rawSize, 0),
  };
}
