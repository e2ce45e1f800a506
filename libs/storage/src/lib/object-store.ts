import type { Readable } from 'node:stream';

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`; `end` past the last byte is clamped. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** Options of {@link ObjectStore.put}. */
export interface PutOptions {
  /**
   * The exact size of the body when the caller knows it. A stream that delivers a different number of bytes
   * fails the upload (nothing is committed). Adapters may use it to choose a single-request upload.
   */
  readonly contentLength?: number;
}

/** Options of {@link ObjectStore.get}. */
export interface GetOptions {
  readonly range?: ByteRange;
}

/** What {@link ObjectStore.head} reports about an object. */
export interface ObjectInfo {
  readonly size: number;
  /** The backend's entity tag (S3 ETag, GCS etag, a size+mtime tag for files), when it has one. */
  readonly etag?: string;
}

/** One entry of {@link ObjectStore.list}. */
export interface ListedObject {
  /** Relative to the store's base, like every key. */
  readonly key: string;
  readonly size: number;
}

/** Options of {@link ObjectStore.abortIncompleteUploads}. */
export interface AbortIncompleteUploadsOptions {
  /**
   * Only uploads started before this time are aborted, so uploads still running are left alone: pass a time
   * further back than the slowest upload takes. (`file://` judges by the temp file's last write, which is
   * never earlier than the start: an upload that wrote after this time is kept.)
   */
  readonly startedBefore: Date;
  /** Count the uploads that would be aborted without aborting any. */
  readonly dryRun?: boolean;
  /**
   * Only uploads whose key passes. On `file://` the key of the target is not recorded anywhere, so the
   * filter is given the key of the temp file, which lies in the target's directory (`a/b/.substrate-upload-…`
   * for an upload of `a/b/c`).
   */
  readonly filter?: (key: string) => boolean;
}

/**
 * The object-store port: a flat key space under a base location (`file:///dir`, `s3://bucket/prefix`,
 * `gs://bucket/prefix`). Keys are relative to the base, `/`-separated, without `.`/`..` or empty segments.
 *
 * Every method throws {@link StorageError} subclasses with stable codes; none logs.
 */
export interface ObjectStore {
  /** The canonical URI of the store's base. */
  readonly uri: string;

  /**
   * Writes an object, replacing any previous one. Readers never see a partial object: the object appears
   * complete when the returned promise resolves, or not at all (the previous version stays) when it rejects.
   */
  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<void>;

  /**
   * Opens an object for reading (the whole object or an inclusive byte range). A missing object rejects with
   * {@link ObjectNotFoundError} before any byte is delivered; a range starting past the end rejects with
   * {@link InvalidRangeError}. Errors while streaming are emitted as typed errors on the stream.
   */
  get(key: string, options?: GetOptions): Promise<Readable>;

  /** Size (and entity tag) of an object, or `undefined` when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;

  /**
   * Every object whose key starts with `prefix` (a plain string prefix, `''` for all), in lexicographic key
   * order. Fetches the backend's pages lazily.
   */
  list(prefix: string): AsyncIterable<ListedObject>;

  /** Deletes an object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;

  /** Deletes every object whose key starts with `prefix` and resolves with how many were deleted. */
  deletePrefix(prefix: string): Promise<number>;

  /**
   * Aborts the uploads under `prefix` that started before `options.startedBefore` and never completed, and
   * resolves with how many there were (aborted, or found in a dry run). A writer killed mid-upload leaves
   * such uploads behind, holding storage that {@link list} never shows, so {@link deletePrefix} of its keys
   * cannot free it:
   *
   * - `file://`: the hidden temp file the upload was writing (`.substrate-upload-*` next to its target); it
   *   counts as under `prefix` when its directory is (`a/b/` for prefixes `''`, `a/`, `a/b/`); directories
   *   left empty are removed. An upload still writing to a removed temp file fails instead of committing.
   * - `s3://`: multipart uploads (`ListMultipartUploads` by key prefix, `Initiated` before the cut-off,
   *   then `AbortMultipartUpload`), whose stored parts are billed until aborted.
   * - `gs://`: always 0. Unfinished resumable upload sessions cannot be listed; Cloud Storage discards them a
   *   week after they were started.
   *
   * A completed object is never touched.
   */
  abortIncompleteUploads(prefix: string, options: AbortIncompleteUploadsOptions): Promise<number>;

  /** Releases connections held by the client. The store must not be used afterwards. */
  close(): Promise<void>;
}
