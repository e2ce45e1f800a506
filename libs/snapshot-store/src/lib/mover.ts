import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

import {
  DEFAULT_COMPRESSION_LEVEL,
  assertFileName,
  compressedObjectName,
  createManifest,
  decodeToFile,
  encodeFile,
  parseManifest,
  serializeManifest,
  type DecodeResult,
  type ManifestInput,
  type SnapshotFileEntry,
  type SnapshotManifest,
} from '@substrate/snapshot';
import { isStorageError, type ObjectStore } from '@substrate/storage';

import { TransferControl, checkConcurrency, forEachLimited } from './control';
import { SnapshotNotFoundError } from './errors';
import { manifestKey, parseSnapshotPrefix, snapshotKey } from './layout';
import { resolveRetryPolicy, withRetry, type RetryPolicy } from './retry';

/** Files moved at once by default. */
export const DEFAULT_TRANSFER_CONCURRENCY = 4;

/** Progress of one transfer, reported through {@link TransferOptions.onProgress}. */
export interface TransferProgress {
  readonly direction: 'upload' | 'download';
  /**
   * Bytes done out of {@link bytesTotal}. Upload: bytes of the local files read and encoded (holes included),
   * out of their apparent sizes. Download: compressed bytes received, out of the manifest's compressed sizes.
   * A file that is retried starts again from zero, so the count can go back.
   */
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Files finished (uploaded, or downloaded and verified) out of {@link filesTotal}. */
  readonly filesDone: number;
  readonly filesTotal: number;
  /** Failed attempts that were retried so far. */
  readonly retries: number;
}

/** A failed attempt that is about to be retried, reported through {@link TransferOptions.onRetry}. */
export interface TransferRetry {
  /** The snapshot file (as in the manifest), or `manifest.json`. */
  readonly fileName: string;
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly error: unknown;
}

/** Options shared by {@link uploadSnapshot} and {@link downloadSnapshot}. */
export interface TransferOptions {
  /** Files moved at once. Default {@link DEFAULT_TRANSFER_CONCURRENCY}. */
  readonly concurrency?: number;
  /** Retries of transient storage failures; see {@link RetryPolicy} for the defaults. */
  readonly retry?: RetryPolicy;
  /** Called as bytes move (often: throttle it before logging). Must not throw. */
  readonly onProgress?: (progress: TransferProgress) => void;
  /** Called before each retry (for logs and metrics). Must not throw. */
  readonly onRetry?: (retry: TransferRetry) => void;
  /** Stops the transfer: it rejects with {@link TransferAbortedError}. */
  readonly signal?: AbortSignal;
  /** Whole-transfer deadline, retries included: past it the transfer rejects with {@link DeadlineExceededError}. */
  readonly deadlineMs?: number;
}

/** What the manifest records besides the files. */
export type SnapshotMetadata = Omit<ManifestInput, 'files'>;

/** Options of {@link uploadSnapshot}. */
export interface UploadOptions extends TransferOptions {
  /** Sandbox class, scope and runtime assets of the snapshot, recorded in its manifest. */
  readonly metadata: SnapshotMetadata;
  /** zstd level. Default {@link DEFAULT_COMPRESSION_LEVEL}. */
  readonly level?: number;
  /** zstd worker threads per file being compressed (0: none). Default: `DEFAULT_COMPRESSION_THREADS` (2). */
  readonly compressionThreads?: number;
}

/** Options of {@link downloadSnapshot}. */
export interface DownloadOptions extends TransferOptions {
  /** Permission bits of the restored files. Default `0o600`. */
  readonly mode?: number;
  /**
   * Flush the restored files (and `destDir`) to disk before resolving. Default false: restore state is scratch
   * space that is downloaded again after a crash, and every file is verified before it is published either way.
   */
  readonly fsync?: boolean;
}

/** What {@link uploadSnapshot} stored. */
export interface UploadResult {
  /** The snapshot prefix, now committed. */
  readonly prefix: string;
  readonly manifest: SnapshotManifest;
  /** Bytes stored, manifest excluded. */
  readonly compressedBytes: number;
  /** Failed attempts that were retried. */
  readonly retries: number;
}

/** What {@link downloadSnapshot} restored. */
export interface DownloadResult {
  readonly prefix: string;
  readonly manifest: SnapshotManifest;
  /** One per file, in the manifest's order; every one verified. */
  readonly files: readonly DecodeResult[];
  /** Failed attempts that were retried. */
  readonly retries: number;
}

class Progress {
  private bytesDone = 0;
  private filesDone = 0;
  retries = 0;

  constructor(
    private readonly direction: TransferProgress['direction'],
    private readonly bytesTotal: number,
    private readonly filesTotal: number,
    private readonly listener: TransferOptions['onProgress'],
  ) {}

  bytes(delta: number): void {
    this.bytesDone += delta;
    this.emit();
  }

  fileDone(): void {
    this.filesDone++;
    this.emit();
  }

  emit(): void {
    this.listener?.({
      direction: this.direction,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      retries: this.retries,
    });
  }
}

/**
 * Uploads the snapshot files `files` (names relative to `dir`, e.g. runsc's `checkpoint.img`, `pages.img`) as
 * the snapshot at `prefix` (from {@link newSnapshotPrefix}, relative to the store's base): several files at
 * once, each read once and streamed through the codec (sparse extents, zstd, sha256) into `<name>.zstd`, and
 * then — only when every file is stored — `manifest.json`, the commit marker. Until that last write the
 * snapshot does not exist for readers; a failed or aborted upload leaves objects without a manifest, which
 * {@link collectSnapshots} removes after its grace period.
 *
 * A file whose upload fails with a transient storage error (see {@link RetryPolicy}) is encoded and uploaded
 * again from the start, after a backoff; other errors fail the upload at once and stop the files in flight.
 *
 * @throws TransferAbortedError, DeadlineExceededError, StorageError (after the retries),
 * SourceChangedError and file-system errors of the local files, InvalidSnapshotPrefixError, InvalidOptionError.
 *
 * @example
 * ```ts
 * const prefix = newSnapshotPrefix(actorId);
 * await uploadSnapshot(store, prefix, checkpointDir, ['checkpoint.img', 'pages.img', 'pages_meta.img'], {
 *   metadata: { sandboxClass: 'gvisor', scope: 'Full', assets: { runsc } },
 *   deadlineMs: 120_000,
 * });
 * ```
 */
export async function uploadSnapshot(
  store: ObjectStore,
  prefix: string,
  dir: string,
  files: readonly string[],
  options: UploadOptions,
): Promise<UploadResult> {
  parseSnapshotPrefix(prefix);
  files.forEach(assertFileName);
  const concurrency = checkConcurrency(options.concurrency ?? DEFAULT_TRANSFER_CONCURRENCY);
  const policy = resolveRetryPolicy(options.retry);
  const level = options.level ?? DEFAULT_COMPRESSION_LEVEL;
  const control = new TransferControl(`upload of snapshot ${prefix}`, options.signal, options.deadlineMs);
  try {
    const sizes = await Promise.all(files.map(async (name) => (await stat(join(dir, name))).size));
    const progress = new Progress(
      'upload',
      sizes.reduce((a, b) => a + b, 0),
      files.length,
      options.onProgress,
    );
    const retried = (fileName: string) => (error: unknown, attempt: number) => {
      progress.retries++;
      progress.emit();
      options.onRetry?.({ fileName, attempt, error });
    };
    const entries = await forEachLimited(files, concurrency, control, (name) => {
      let counted = 0;
      return withRetry(
        async () => {
          if (counted > 0) progress.bytes(-counted); // a retry starts the file again
          counted = 0;
          // Progress of a failed attempt that arrives late (its encoder still winding down) is not counted.
          let current = true;
          const encoded = encodeFile(join(dir, name), {
            name,
            level,
            ...(options.compressionThreads === undefined ? {} : { threads: options.compressionThreads }),
            onProgress: (bytes) => {
              if (!current) return;
              counted += bytes;
              progress.bytes(bytes);
            },
          });
          const release = control.track(encoded.stream);
          try {
            await store.put(snapshotKey(prefix, compressedObjectName(name)), encoded.stream);
            const entry: SnapshotFileEntry = await encoded.entry;
            progress.fileDone();
            return entry;
          } catch (error) {
            current = false;
            encoded.stream.destroy();
            throw error;
          } finally {
            release();
          }
        },
        policy,
        control.signal,
        retried(name),
      );
    });
    const manifest = createManifest({ ...options.metadata, files: entries });
    const body = Buffer.from(serializeManifest(manifest));
    control.throwIfStopped();
    await withRetry(
      () => store.put(manifestKey(prefix), body, { contentLength: body.length }),
      policy,
      control.signal,
      retried('manifest.json'),
    );
    return {
      prefix,
      manifest,
      compressedBytes: entries.reduce((sum, entry) => sum + entry.compressedSize, 0),
      retries: progress.retries,
    };
  } catch (error) {
    throw control.signal.aborted ? control.signal.reason : error;
  } finally {
    control.dispose();
  }
}

/**
 * Reads and validates the manifest of the committed snapshot at `prefix`.
 *
 * @throws SnapshotNotFoundError when there is none (the snapshot does not exist or was never committed),
 * ManifestSyntaxError / ManifestValidationError / UnsupportedFormatError for a bad manifest, StorageError.
 */
export async function readSnapshotManifest(
  store: ObjectStore,
  prefix: string,
  options: Pick<TransferOptions, 'retry' | 'signal' | 'deadlineMs'> = {},
): Promise<SnapshotManifest> {
  parseSnapshotPrefix(prefix);
  const control = new TransferControl(`manifest read of ${prefix}`, options.signal, options.deadlineMs);
  try {
    return await readManifest(store, prefix, resolveRetryPolicy(options.retry), control);
  } catch (error) {
    throw control.signal.aborted ? control.signal.reason : error;
  } finally {
    control.dispose();
  }
}

async function readManifest(
  store: ObjectStore,
  prefix: string,
  policy: ReturnType<typeof resolveRetryPolicy>,
  control: TransferControl,
  onRetry?: (error: unknown, attempt: number) => void,
): Promise<SnapshotManifest> {
  const text = await withRetry(
    async () => {
      let body: Readable;
      try {
        body = await store.get(manifestKey(prefix));
      } catch (error) {
        if (isStorageError(error, 'NOT_FOUND')) throw new SnapshotNotFoundError(prefix, { cause: error });
        throw error;
      }
      const release = control.track(body);
      try {
        return await buffer(body);
      } finally {
        release();
      }
    },
    policy,
    control.signal,
    onRetry,
  );
  return parseManifest(text);
}

/** Re-yields `source`, counting bytes into `onBytes`. */
async function* counting(
  source: AsyncIterable<Uint8Array>,
  onBytes: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    onBytes(chunk.length);
    yield chunk;
  }
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Restores the committed snapshot at `prefix` into `destDir` (created if missing): reads the manifest, then
 * downloads several files at once, each streamed through the codec, which verifies everything (stream layout,
 * zstd checksum, CRC-32 of the object, sizes, extents, SHA-256 of the data) before the file is published
 * under its name by a rename. Holes stay holes. Only when every file passed does the promise resolve; on any
 * failure the files this call already published are removed again, so `destDir` never holds a partial or
 * unverified restore.
 *
 * A file whose download fails with a transient storage error (see {@link RetryPolicy}), including a
 * connection cut mid-stream, is downloaded again from the start after a backoff.
 *
 * @throws SnapshotNotFoundError when the snapshot has no manifest, SnapshotIntegrityError naming a file that
 * failed verification, TransferAbortedError, DeadlineExceededError, StorageError (after the retries),
 * manifest errors, InvalidSnapshotPrefixError, InvalidOptionError.
 */
export async function downloadSnapshot(
  store: ObjectStore,
  prefix: string,
  destDir: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  parseSnapshotPrefix(prefix);
  const concurrency = checkConcurrency(options.concurrency ?? DEFAULT_TRANSFER_CONCURRENCY);
  const policy = resolveRetryPolicy(options.retry);
  const control = new TransferControl(`download of snapshot ${prefix}`, options.signal, options.deadlineMs);
  const published: string[] = [];
  let progress: Progress | undefined;
  let retries = 0;
  const retried = (fileName: string) => (error: unknown, attempt: number) => {
    retries++;
    if (progress !== undefined) {
      progress.retries = retries;
      progress.emit();
    }
    options.onRetry?.({ fileName, attempt, error });
  };
  try {
    const manifest = await readManifest(store, prefix, policy, control, retried('manifest.json'));
    const files = new Progress(
      'download',
      manifest.files.reduce((sum, file) => sum + file.compressedSize, 0),
      manifest.files.length,
      options.onProgress,
    );
    files.retries = retries;
    progress = files;
    await mkdir(destDir, { recursive: true });
    const results = await forEachLimited(manifest.files, concurrency, control, async (entry) => {
      const destination = join(destDir, entry.name);
      await mkdir(dirname(destination), { recursive: true });
      let counted = 0;
      const result = await withRetry(
        async () => {
          if (counted > 0) files.bytes(-counted); // a retry starts the file again
          counted = 0;
          const body = await store.get(snapshotKey(prefix, compressedObjectName(entry.name)));
          const release = control.track(body);
          try {
            return await decodeToFile(
              counting(body, (bytes) => {
                counted += bytes;
                files.bytes(bytes);
              }),
              entry,
              destination,
              { mode: options.mode ?? 0o600, fsync: false },
            );
          } finally {
            release();
            body.destroy();
          }
        },
        policy,
        control.signal,
        retried(entry.name),
      );
      published.push(destination);
      files.fileDone();
      return result;
    });
    if (options.fsync === true) {
      await Promise.all(published.map(syncPath));
      await syncPath(destDir);
    }
    control.throwIfStopped();
    return { prefix, manifest, files: results, retries };
  } catch (error) {
    await Promise.all(published.map((path) => unlink(path).catch(() => undefined)));
    throw control.signal.aborted ? control.signal.reason : error;
  } finally {
    control.dispose();
  }
}
