/** Why a state-store write did not happen. */
export type StoreErrorCode =
  /** The record changed since it was read (optimistic concurrency lost); retry from a fresh read. */
  | 'CONFLICT'
  /** The record does not exist. */
  | 'MISSING'
  /** A create found the record already there. */
  | 'EXISTS'
  /** The workflow's lock expired or was taken over; the write was refused. */
  | 'LOCK_LOST'
  /** A stored record or a page token cannot be decoded. */
  | 'CORRUPT';

/** A refused or failed state-store operation. Services map it to a ControlError. */
export class StoreError extends Error {
  override readonly name = 'StoreError';

  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code);
}
