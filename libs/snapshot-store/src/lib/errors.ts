/** Stable codes of the errors this library throws; switch on `code`, never on the message. */
export type SnapshotStoreErrorCode =
  | 'INVALID_ACTOR_ID'
  | 'INVALID_SNAPSHOT_PREFIX'
  | 'INVALID_OPTION'
  | 'SNAPSHOT_NOT_FOUND'
  | 'TRANSFER_ABORTED'
  | 'DEADLINE_EXCEEDED';

/**
 * Base class of every error this library throws itself. Errors of the layers below pass through unchanged:
 * `StorageError` (`@substrate/storage`) for object-store failures that were not retried or kept failing,
 * `SnapshotIntegrityError` / `ManifestValidationError` (`@substrate/snapshot`) for a snapshot that fails
 * verification.
 */
export abstract class SnapshotStoreError extends Error {
  abstract readonly code: SnapshotStoreErrorCode;
}

/** An actor id that cannot be one path segment of the layout (empty, `/`, `.`/`..`, control characters…). */
export class InvalidActorIdError extends SnapshotStoreError {
  override readonly name = 'InvalidActorIdError';
  readonly code = 'INVALID_ACTOR_ID' as const;

  constructor(
    readonly actorId: string,
    reason: string,
  ) {
    super(`invalid actor id ${JSON.stringify(actorId)}: ${reason}`);
  }
}

/** A snapshot prefix that is not `<actor-id>/<timestamp>-<random>` as {@link newSnapshotPrefix} makes them. */
export class InvalidSnapshotPrefixError extends SnapshotStoreError {
  override readonly name = 'InvalidSnapshotPrefixError';
  readonly code = 'INVALID_SNAPSHOT_PREFIX' as const;

  constructor(
    readonly prefix: string,
    reason: string,
  ) {
    super(`invalid snapshot prefix ${JSON.stringify(prefix)}: ${reason}`);
  }
}

/** An option out of range (a concurrency of 0, a negative grace period…); `option` names it. */
export class InvalidOptionError extends SnapshotStoreError {
  override readonly name = 'InvalidOptionError';
  readonly code = 'INVALID_OPTION' as const;

  constructor(
    readonly option: string,
    reason: string,
  ) {
    super(`invalid option ${option}: ${reason}`);
  }
}

/** No committed snapshot at the prefix: its `manifest.json` (the commit marker) does not exist. */
export class SnapshotNotFoundError extends SnapshotStoreError {
  override readonly name = 'SnapshotNotFoundError';
  readonly code = 'SNAPSHOT_NOT_FOUND' as const;

  constructor(
    readonly prefix: string,
    options?: { cause?: unknown },
  ) {
    super(`no committed snapshot at ${JSON.stringify(prefix)} (no manifest.json)`, options);
  }
}

/** The caller's `AbortSignal` fired; `cause` holds its reason. Nothing was committed or handed back. */
export class TransferAbortedError extends SnapshotStoreError {
  override readonly name = 'TransferAbortedError';
  readonly code = 'TRANSFER_ABORTED' as const;

  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what} was aborted`, options);
  }
}

/** The transfer's `deadlineMs` passed. Nothing was committed or handed back. */
export class DeadlineExceededError extends SnapshotStoreError {
  override readonly name = 'DeadlineExceededError';
  readonly code = 'DEADLINE_EXCEEDED' as const;

  constructor(
    what: string,
    readonly deadlineMs: number,
  ) {
    super(`${what} did not finish within its deadline of ${deadlineMs} ms`);
  }
}

/** True for any error thrown by this library, optionally with the given code. */
export function isSnapshotStoreError(
  error: unknown,
  code?: SnapshotStoreErrorCode,
): error is SnapshotStoreError {
  return error instanceof SnapshotStoreError && (code === undefined || error.code === code);
}
