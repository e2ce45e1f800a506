import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import type { ObjectStoreConfig, ResolvedTimeouts } from './config';
import { resolveTimeouts } from './config';
import {
  AccessDeniedError,
  BadCredentialsError,
  BucketNotFoundError,
  InvalidRangeError,
  ObjectNotFoundError,
  SizeMismatchError,
  StorageError,
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
import { checkRange, mapStreamErrors, sizeGuard } from './streams';
import { validateKey, validatePrefix } from './uri';

const MiB = 1024 * 1024;
const MIN_PART_SIZE = 5 * MiB;
const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  // versitygw's answer to an unknown access key id (HTTP 404).
  'XAdminUserNotFound',
]);

/**
 * `s3://bucket/prefix` adapter on `@aws-sdk/client-s3`. Streams are uploaded with `@aws-sdk/lib-storage`'s
 * `Upload`: a body shorter than one part is a single `PutObject`, a longer one a multipart upload of
 * `partSizeBytes` parts, aborted (no parts left behind) if the upload fails.
 */
export class S3ObjectStore implements ObjectStore {
  readonly uri: string;
  private readonly client: S3Client;
  private readonly timeouts: ResolvedTimeouts;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly pageSize: number;

  constructor(
    readonly bucket: string,
    readonly prefix: string,
    config: ObjectStoreConfig = {},
  ) {
    const s3 = config.s3 ?? {};
    this.uri = `s3://${bucket}/${prefix}`;
    this.timeouts = resolveTimeouts(config.timeouts);
    this.partSize = Math.max(MIN_PART_SIZE, s3.partSizeBytes ?? 8 * MiB); // validated by openObjectStore
    this.queueSize = Math.max(1, s3.queueSize ?? 4);
    this.pageSize = Math.min(1000, Math.max(1, config.listPageSize ?? 1000));
    this.client = new S3Client({
      region: s3.region ?? process.env['AWS_REGION'] ?? 'us-east-1',
      ...(s3.endpoint === undefined ? {} : { endpoint: s3.endpoint }),
      ...(s3.credentials === undefined ? {} : { credentials: s3.credentials }),
      forcePathStyle: s3.forcePathStyle ?? s3.endpoint !== undefined,
      maxAttempts: Math.max(1, s3.maxAttempts ?? 3),
      retryMode: 'standard',
      // Checksums only where the API requires them: S3-compatible servers differ in the flexible checksums
      // they accept, and our snapshot files carry their own sha256.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: this.timeouts.connectMs, socketTimeout: this.timeouts.idleMs },
    });
  }

  private keyOf(key: string): string {
    return this.prefix + validateKey(key);
  }

  private deadline(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(this.timeouts.operationMs) };
  }

  /** Maps an SDK error to the library's taxonomy (by error code and HTTP status, not by class). */
  private mapError(err: unknown, key?: string): StorageError {
    if (err instanceof StorageError) return err;
    const what = key === undefined ? this.uri : `object "${key}" in ${this.uri}`;
    const { name, message, $metadata } = (err ?? {}) as {
      name?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
    };
    const detail = `${what}: ${name ?? 'error'}${message && message !== 'UnknownError' ? ` (${message})` : ''}`;
    const status = $metadata?.httpStatusCode;
    if (name === 'NoSuchBucket') return new BucketNotFoundError(this.bucket, { cause: err });
    if (name !== undefined && CREDENTIAL_ERRORS.has(name))
      return new BadCredentialsError(detail, { cause: err });
    if ((name === 'NoSuchKey' || name === 'NotFound' || status === 404) && key !== undefined) {
      return new ObjectNotFoundError(key, { cause: err });
    }
    if (name === 'AccessDenied' || status === 403) return new AccessDeniedError(detail, { cause: err });
    if (name === 'InvalidRange' || status === 416) {
      return new StorageError('INVALID_RANGE', `${detail}: range not satisfiable`, { cause: err });
    }
    return transportError(err, what) ?? new StorageError('STORAGE_ERROR', detail, { cause: err });
  }

  /**
   * HEAD responses carry no error body, so a bare 404 or 403 does not say whether the object, the bucket or
   * the credentials are at fault. One listing request (which does carry an error code) tells: it throws the
   * precise error, or resolves when the bucket and credentials are fine.
   */
  private async probeBucket(): Promise<void> {
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1 }), this.deadline());
    } catch (err) {
      throw this.mapError(err);
    }
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<void> {
    const objectKey = this.keyOf(key);
    if (
      Buffer.isBuffer(body) &&
      options.contentLength !== undefined &&
      body.length !== options.contentLength
    ) {
      throw new SizeMismatchError(key, options.contentLength, body.length);
    }
    const source = Buffer.isBuffer(body) ? body : body.pipe(sizeGuard(key, options.contentLength));
    if (!Buffer.isBuffer(body)) body.once('error', (err) => (source as Readable).destroy(err));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: objectKey, Body: source, ContentType: 'application/octet-stream' },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      // The caller's stream will not be read any further: release it (and the file or socket behind it).
      if (!Buffer.isBuffer(body)) {
        body.destroy();
        (source as Readable).destroy();
      }
      throw this.mapError(err, key);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const objectKey = this.keyOf(key);
    const { range } = options;
    checkRange(key, range);
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
        }),
      );
      if (!(out.Body instanceof Readable))
        throw new StorageError('STORAGE_ERROR', `object "${key}": no body stream`);
      return mapStreamErrors(out.Body, (err) => this.mapError(err, key));
    } catch (err) {
      const mapped = this.mapError(err, key);
      if (range !== undefined && mapped.code === 'INVALID_RANGE')
        throw new InvalidRangeError(key, range, { cause: err });
      throw mapped;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const objectKey = this.keyOf(key);
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }),
        this.deadline(),
      );
      return { size: out.ContentLength ?? 0, ...(out.ETag === undefined ? {} : { etag: out.ETag }) };
    } catch (err) {
      const mapped = this.mapError(err, key);
      if (!(mapped instanceof ObjectNotFoundError || mapped instanceof AccessDeniedError)) throw mapped;
      const probed = await this.probeBucket().then(
        () => undefined,
        (probeErr: unknown) => probeErr,
      );
      // A probe refused for lack of list permission says nothing new: keep the HEAD's own answer.
      if (probed !== undefined && !(probed instanceof AccessDeniedError)) throw probed;
      if (mapped instanceof AccessDeniedError) throw mapped;
      return undefined;
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    validatePrefix(prefix);
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            MaxKeys: this.pageSize,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
          this.deadline(),
        );
      } catch (err) {
        throw this.mapError(err);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield { key: object.Key.slice(this.prefix.length), size: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.keyOf(key);
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }),
        this.deadline(),
      );
    } catch (err) {
      const mapped = this.mapError(err, key);
      if (!(mapped instanceof ObjectNotFoundError)) throw mapped;
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const keys = batch;
      batch = [];
      let out;
      try {
        out = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: keys.map((k) => ({ Key: this.prefix + k })), Quiet: true },
          }),
          this.deadline(),
        );
      } catch (err) {
        throw this.mapError(err);
      }
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      const first = failed[0];
      if (first !== undefined) {
        throw new StorageError(
          'STORAGE_ERROR',
          `${this.uri}: ${failed.length} of ${keys.length} deletes failed, first "${first.Key}": ${first.Code} ${first.Message}`,
        );
      }
      deleted += keys.length;
    };
    // Collect the whole listing first: deleting while paginating could skip keys on some servers.
    const keys: string[] = [];
    for await (const { key } of this.list(prefix)) keys.push(key);
    for (const key of keys) {
      batch.push(key);
      if (batch.length === 1000) await flush();
    }
    await flush();
    return deleted;
  }

  async abortIncompleteUploads(prefix: string, options: AbortIncompleteUploadsOptions): Promise<number> {
    validatePrefix(prefix);
    const cutoff = options.startedBefore.getTime();
    // Collect the whole listing first: aborting while paginating could skip uploads on some servers.
    const stale: { key: string; uploadId: string }[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    // versitygw (1.8) refuses every upload-id-marker (it looks it up among the keys after the key-marker):
    // once it has, go on by key-marker alone, which can only skip further uploads of the key the page ended on
    // (left for the next sweep; a snapshot writes each key once).
    let keyMarkerOnly = false;
    for (;;) {
      let page;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            MaxUploads: this.pageSize,
            ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
            ...(uploadIdMarker === undefined || keyMarkerOnly ? {} : { UploadIdMarker: uploadIdMarker }),
          }),
          this.deadline(),
        );
      } catch (err) {
        const name = (err as { name?: unknown } | null)?.name;
        if (name === 'InvalidArgument' && uploadIdMarker !== undefined && !keyMarkerOnly) {
          keyMarkerOnly = true;
          continue;
        }
        throw this.mapError(err);
      }
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        // An upload without a start time is not known to be old enough: leave it.
        if (upload.Initiated === undefined || upload.Initiated.getTime() >= cutoff) continue;
        const key = upload.Key.slice(this.prefix.length);
        if (options.filter !== undefined && !options.filter(key)) continue;
        stale.push({ key, uploadId: upload.UploadId });
      }
      if (page.IsTruncated !== true || (page.NextKeyMarker ?? '') === '') break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
    if (options.dryRun === true) return stale.length;
    let aborted = 0;
    for (const { key, uploadId } of stale) {
      try {
        await this.client.send(
          new AbortMultipartUploadCommand({
            Bucket: this.bucket,
            Key: this.prefix + key,
            UploadId: uploadId,
          }),
          this.deadline(),
        );
        aborted++;
      } catch (err) {
        // Completed or aborted by someone else since the listing: not ours to count.
        if ((err as { name?: unknown } | null)?.name === 'NoSuchUpload') continue;
        throw this.mapError(err, key);
      }
    }
    return aborted;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
