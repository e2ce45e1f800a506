import { ApiError, IdempotencyStrategy, Storage, type Bucket } from '@google-cloud/storage';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStoreConfig } from './config';
import { resolveTimeouts } from './config';
import {
  AccessDeniedError,
  BadCredentialsError,
  BucketNotFoundError,
  InvalidRangeError,
  ObjectNotFoundError,
  SizeMismatchError,
  StorageError,
  StorageTimeoutError,
  transportError,
} from './errors';
import type {
  AbortIncompleteUploadsOptions,
  GetOptions,
  ListedObject,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from './object-store';
import { bodyStream, checkRange, idleTimer, mapStreamErrors, sizeGuard } from './streams';
import { validateKey, validatePrefix } from './uri';

const MiB = 1024 * 1024;
const DELETE_CONCURRENCY = 16;

/**
 * `gs://bucket/prefix` adapter on `@google-cloud/storage`. Bodies of at least `resumableThresholdBytes`, and
 * streams of unknown length, go through a resumable upload session; smaller ones through a single request.
 * With `apiEndpoint` set (an emulator), requests are sent without authentication.
 */
export class GcsObjectStore implements ObjectStore {
  readonly uri: string;
  private readonly bucketRef: Bucket;
  private readonly resumableThreshold: number;
  private readonly chunkSize: number | undefined;
  private readonly pageSize: number;
  private readonly idleMs: number;

  constructor(
    readonly bucket: string,
    readonly prefix: string,
    config: ObjectStoreConfig = {},
  ) {
    const gcs = config.gcs ?? {};
    const timeouts = resolveTimeouts(config.timeouts);
    const maxRetries = Math.max(0, Math.trunc(gcs.maxRetries ?? 2));
    this.uri = `gs://${bucket}/${prefix}`;
    this.resumableThreshold = gcs.resumableThresholdBytes ?? 8 * MiB;
    this.chunkSize = gcs.chunkSizeBytes;
    this.pageSize = Math.min(1000, Math.max(1, config.listPageSize ?? 1000));
    this.idleMs = timeouts.idleMs;
    const storage = new Storage({
      ...(gcs.apiEndpoint === undefined ? {} : { apiEndpoint: gcs.apiEndpoint }),
      ...(gcs.projectId === undefined ? {} : { projectId: gcs.projectId }),
      ...(gcs.keyFilename === undefined ? {} : { keyFilename: gcs.keyFilename }),
      // Deadline of each request until its response headers (a streamed body is not cut off).
      timeout: timeouts.operationMs,
      retryOptions: {
        // The library reads maxRetries 0 as "unset" (its default, 3): no retries must be said with autoRetry.
        autoRetry: maxRetries > 0,
        maxRetries,
        maxRetryDelay: 8, // seconds
        totalTimeout: Math.ceil((timeouts.operationMs * (1 + maxRetries)) / 1000), // seconds
        // Snapshot objects are written once under a fresh prefix, so repeating a write or delete is safe.
        idempotencyStrategy: IdempotencyStrategy.RetryAlways,
      },
    });
    this.bucketRef = storage.bucket(bucket);
  }

  private nameOf(key: string): string {
    return this.prefix + validateKey(key);
  }

  private mapError(err: unknown, key?: string): Error {
    if (err instanceof StorageError) return err;
    const what = key === undefined ? this.uri : `object "${key}" in ${this.uri}`;
    const status = err instanceof ApiError ? err.code : (err as { code?: unknown } | null)?.code;
    const rawMessage = (err as { message?: unknown } | null)?.message;
    const message = typeof rawMessage === 'string' ? rawMessage : String(err);
    if (status === 404) {
      // Object calls learn whether the bucket is the missing part from notFound()'s probe: messages differ
      // between GCS and emulators, and a bucket's name may itself contain "bucket".
      if (key === undefined) return new BucketNotFoundError(this.bucket, { cause: err });
      return new ObjectNotFoundError(key, { cause: err });
    }
    if (status === 401) return new BadCredentialsError(`${what}: ${message}`, { cause: err });
    if (status === 403) return new AccessDeniedError(`${what}: ${message}`, { cause: err });
    if (/Could not load the default credentials|invalid_grant/i.test(message)) {
      return new BadCredentialsError(`${what}: ${message}`, { cause: err });
    }
    return (
      transportError(err, what) ?? new StorageError('STORAGE_ERROR', `${what}: ${message}`, { cause: err })
    );
  }

  /** After a 404 for an object: is it the bucket that is missing? */
  private async bucketMissing(): Promise<boolean> {
    try {
      const [exists] = await this.bucketRef.exists();
      return !exists;
    } catch {
      return false;
    }
  }

  private async notFound(err: unknown, key: string): Promise<Error> {
    const mapped = this.mapError(err, key);
    if (mapped instanceof ObjectNotFoundError && (await this.bucketMissing())) {
      return new BucketNotFoundError(this.bucket, { cause: err });
    }
    return mapped;
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<void> {
    const file = this.bucketRef.file(this.nameOf(key));
    const size = Buffer.isBuffer(body) ? body.length : options.contentLength;
    if (
      Buffer.isBuffer(body) &&
      options.contentLength !== undefined &&
      body.length !== options.contentLength
    ) {
      throw new SizeMismatchError(key, options.contentLength, body.length);
    }
    const resumable = size === undefined || size >= this.resumableThreshold;
    const sink = file.createWriteStream({
      resumable,
      contentType: 'application/octet-stream',
      ...(resumable && this.chunkSize !== undefined ? { chunkSize: this.chunkSize } : {}),
    });
    // The client sets no deadline on upload requests: fail the upload when neither the body nor the
    // request (its 'progress' events, then the final answer) has moved for idleMs.
    const idle = idleTimer(this.idleMs, () =>
      sink.destroy(
        new StorageTimeoutError(
          `upload of object "${key}" to ${this.uri}: no progress for ${this.idleMs} ms`,
        ),
      ),
    );
    sink.on('progress', idle.touch);
    try {
      await pipeline(bodyStream(body), sizeGuard(key, options.contentLength, idle.touch), sink);
    } catch (err) {
      throw await this.notFound(err, key);
    } finally {
      idle.stop();
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const file = this.bucketRef.file(this.nameOf(key));
    const { range } = options;
    checkRange(key, range);
    // Metadata first: a missing object or a bad range then fails here, typed, not later on the stream.
    let size: number;
    try {
      const [metadata] = await file.getMetadata();
      size = Number(metadata.size ?? 0);
    } catch (err) {
      throw await this.notFound(err, key);
    }
    if (range !== undefined && range.start >= size) throw new InvalidRangeError(key, range);
    const stream = file.createReadStream(
      range === undefined ? {} : { start: range.start, end: Math.min(range.end, size - 1) },
    );
    return mapStreamErrors(stream, (err) => this.mapError(err, key), {
      ms: this.idleMs,
      error: () => new StorageTimeoutError(`object "${key}" in ${this.uri}: no data for ${this.idleMs} ms`),
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const [metadata] = await this.bucketRef.file(this.nameOf(key)).getMetadata();
      return {
        size: Number(metadata.size ?? 0),
        ...(metadata.etag === undefined ? {} : { etag: metadata.etag }),
      };
    } catch (err) {
      const mapped = await this.notFound(err, key);
      if (mapped instanceof ObjectNotFoundError) return undefined;
      throw mapped;
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    validatePrefix(prefix);
    let pageToken: string | undefined;
    do {
      let files;
      let next;
      try {
        [files, next] = await this.bucketRef.getFiles({
          prefix: this.prefix + prefix,
          autoPaginate: false,
          maxResults: this.pageSize,
          ...(pageToken === undefined ? {} : { pageToken }),
        });
      } catch (err) {
        throw this.mapError(err);
      }
      for (const file of files) {
        yield { key: file.name.slice(this.prefix.length), size: Number(file.metadata.size ?? 0) };
      }
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken !== undefined);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.bucketRef.file(this.nameOf(key)).delete({ ignoreNotFound: true });
    } catch (err) {
      throw await this.notFound(err, key);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys: string[] = [];
    for await (const { key } of this.list(prefix)) keys.push(key);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++];
        if (key !== undefined) await this.delete(key);
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, keys.length) }, worker));
    return keys.length;
  }

  /**
   * Always 0: Cloud Storage offers no way to list unfinished resumable upload sessions (only whoever holds a
   * session's URI can query or cancel it), and it discards a session a week after it was started
   * (https://cloud.google.com/storage/docs/resumable-uploads). The data of an unfinished session is never an
   * object, so nothing of it shows in listings or is left for garbage collection.
   */
  async abortIncompleteUploads(prefix: string, _options: AbortIncompleteUploadsOptions): Promise<number> {
    validatePrefix(prefix);
    return 0;
  }

  async close(): Promise<void> {
    // The client keeps no connections that need an explicit release.
  }
}
