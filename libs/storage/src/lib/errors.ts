/** Stable codes of {@link StorageError}; callers branch on these, never on messages. */
export type StorageErrorCode =
  | 'INVALID_URI'
  | 'INVALID_CONFIG'
  | 'INVALID_KEY'
  | 'INVALID_RANGE'
  | 'NOT_FOUND'
  | 'BUCKET_NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'BAD_CREDENTIALS'
  | 'TIMEOUT'
  | 'UNAVAILABLE'
  | 'SIZE_MISMATCH'
  | 'STORAGE_ERROR';

/** Base class of every error the storage library throws. `cause` holds the SDK's or the OS's error. */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A snapshot location URI that cannot be used (syntax, scheme, bucket). */
export class InvalidStorageUriError extends StorageError {
  constructor(
    readonly uri: string,
    reason: string,
  ) {
    super('INVALID_URI', `invalid snapshot location "${uri}": ${reason}`);
  }
}

/** A configuration value an adapter cannot work with; `setting` names it (e.g. `s3.partSizeBytes`). */
export class InvalidStorageConfigError extends StorageError {
  constructor(
    readonly setting: string,
    reason: string,
  ) {
    super('INVALID_CONFIG', `invalid storage setting ${setting}: ${reason}`);
  }
}

/** An object key that is not a clean relative path (empty, absolute, `..`, empty segment, NUL). */
export class InvalidKeyError extends StorageError {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super('INVALID_KEY', `invalid object key "${key}": ${reason}`);
  }
}

/** A byte range outside the object (or with `end < start`). */
export class InvalidRangeError extends StorageError {
  constructor(
    readonly key: string,
    readonly range: { start: number; end: number },
    options?: { cause?: unknown },
  ) {
    super(
      'INVALID_RANGE',
      `range ${range.start}-${range.end} is not satisfiable for object "${key}"`,
      options,
    );
  }
}

/** The object does not exist. */
export class ObjectNotFoundError extends StorageError {
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super('NOT_FOUND', `object "${key}" not found`, options);
  }
}

/** The bucket named by the store's URI does not exist. */
export class BucketNotFoundError extends StorageError {
  constructor(
    readonly bucket: string,
    options?: { cause?: unknown },
  ) {
    super('BUCKET_NOT_FOUND', `bucket "${bucket}" does not exist`, options);
  }
}

/** The credentials are valid but not allowed to do this (or a local permission error). */
export class AccessDeniedError extends StorageError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('ACCESS_DENIED', `access denied: ${detail}`, options);
  }
}

/** The service rejected the credentials themselves (unknown key id, bad signature, invalid token). */
export class BadCredentialsError extends StorageError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('BAD_CREDENTIALS', `credentials rejected: ${detail}`, options);
  }
}

/** A call exceeded its deadline. */
export class StorageTimeoutError extends StorageError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('TIMEOUT', `storage call timed out: ${detail}`, options);
  }
}

/** The service could not be reached (connection refused or reset, DNS), after the SDK's bounded retries. */
export class StorageUnavailableError extends StorageError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', `storage unavailable: ${detail}`, options);
  }
}

/** An upload produced a different number of bytes than the `contentLength` the caller announced. */
export class SizeMismatchError extends StorageError {
  constructor(
    readonly key: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super('SIZE_MISMATCH', `object "${key}": expected ${expected} bytes, got ${actual}`);
  }
}

/** True when `err` is a {@link StorageError}, optionally with the given code. */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

function describe(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

/**
 * Maps transport-level failures (deadlines, refused or reset connections) shared by both SDKs; undefined
 * otherwise. Follows `cause` chains, and reads system error codes from messages because some SDK layers
 * re-wrap the socket error as text.
 */
export function transportError(err: unknown, what: string): StorageError | undefined {
  let current: unknown = err;
  for (let depth = 0; current !== null && typeof current === 'object' && depth < 5; depth++) {
    const { name, code, type } = current as { name?: unknown; code?: unknown; type?: unknown };
    const timedOut =
      name === 'TimeoutError' ||
      name === 'AbortError' ||
      code === 'ETIMEDOUT' ||
      code === 'ESOCKETTIMEDOUT' ||
      // node-fetch (under the GCS client) marks its deadlines this way
      type === 'request-timeout' ||
      type === 'body-timeout';
    if (timedOut) {
      return new StorageTimeoutError(`${what}: ${describe(err)}`, { cause: err });
    }
    if (typeof code === 'string' && NETWORK_CODES.has(code)) {
      return new StorageUnavailableError(`${what}: ${describe(err)}`, { cause: err });
    }
    current = (current as { cause?: unknown }).cause;
  }
  const named = /\b(E[A-Z_]+)\b/.exec(describe(err))?.[1];
  if (named === 'ETIMEDOUT') return new StorageTimeoutError(`${what}: ${describe(err)}`, { cause: err });
  if (named !== undefined && NETWORK_CODES.has(named)) {
    return new StorageUnavailableError(`${what}: ${describe(err)}`, { cause: err });
  }
  return undefined;
}
