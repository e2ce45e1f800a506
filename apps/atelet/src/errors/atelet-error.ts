/** Stable codes of {@link AteletError}; callers branch on these, never on messages. */
export type AteletErrorCode =
  | 'INVALID_REQUEST'
  | 'UNKNOWN_WORKER'
  | 'WORKER_BUSY'
  | 'NO_ASSETS_FOR_ARCH'
  | 'ASSET_FETCH_FAILED'
  | 'ASSET_CHECKSUM_MISMATCH'
  | 'INVALID_IMAGE_REFERENCE'
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_INVALID'
  | 'LAYER_DIGEST_MISMATCH'
  | 'UNSAFE_LAYER_ENTRY'
  | 'SNAPSHOT_NOT_FOUND'
  | 'SNAPSHOT_INTEGRITY'
  | 'NOT_RUNNING'
  | 'ATEOM_UNAVAILABLE'
  | 'SHUTTING_DOWN'
  | 'ACTOR_LOG_NOT_FOUND';

/** Base class of every error atelet throws. `cause` holds the underlying error. */
export class AteletError extends Error {
  constructor(
    readonly code: AteletErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A request field that fails atelet's validation (docs/protocol.md); the message names the field. */
export class InvalidRequestError extends AteletError {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super('INVALID_REQUEST', `${field}: ${problem}`);
  }
}

/** target_ateom_uid names no worker this atelet drives. */
export class UnknownWorkerError extends AteletError {
  constructor(readonly workerUid: string) {
    super('UNKNOWN_WORKER', `target_ateom_uid ${JSON.stringify(workerUid)} is not a worker of this node`);
  }
}

/** A second operation on a worker while one is in flight. */
export class WorkerBusyError extends AteletError {
  constructor(
    readonly worker: string,
    operation: string,
    inFlight: string,
  ) {
    super('WORKER_BUSY', `worker ${worker} is busy: ${operation} refused while ${inFlight} is in progress`);
  }
}

/** The sandbox assets name nothing for this node's architecture. */
export class NoAssetsForArchError extends AteletError {
  constructor(arch: string, available: readonly string[]) {
    super(
      'NO_ASSETS_FOR_ARCH',
      `sandbox_assets has no files for this node's architecture ${arch} (has: ${available.join(', ') || 'none'})`,
    );
  }
}

/** A sandbox asset could not be fetched from its URL. */
export class AssetFetchError extends AteletError {
  constructor(url: string, problem: string, options?: { cause?: unknown }) {
    super('ASSET_FETCH_FAILED', `cannot fetch sandbox asset ${url}: ${problem}`, options);
  }
}

/** A fetched sandbox asset does not hash to the sha256 the request pins. */
export class AssetChecksumError extends AteletError {
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      'ASSET_CHECKSUM_MISMATCH',
      `sandbox asset ${url} has sha256 ${actual}, expected ${expected}; refusing to use it`,
    );
  }
}

/** An image reference atelet cannot parse. */
export class InvalidImageReferenceError extends AteletError {
  constructor(reference: string, problem: string) {
    super('INVALID_IMAGE_REFERENCE', `invalid image reference ${JSON.stringify(reference)}: ${problem}`);
  }
}

/** The image (or one of its blobs) does not exist where the reference points. */
export class ImageNotFoundError extends AteletError {
  constructor(reference: string, problem: string, options?: { cause?: unknown }) {
    super('IMAGE_NOT_FOUND', `image ${reference} not found: ${problem}`, options);
  }
}

/** A malformed manifest, config or layer. */
export class InvalidImageError extends AteletError {
  constructor(reference: string, problem: string, options?: { cause?: unknown }) {
    super('IMAGE_INVALID', `image ${reference} is invalid: ${problem}`, options);
  }
}

/** A blob whose content does not hash to its digest (tampered or truncated). */
export class LayerDigestMismatchError extends AteletError {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super('LAYER_DIGEST_MISMATCH', `blob ${expected} has digest ${actual}; refusing a tampered image`);
  }
}

/** A layer entry that would escape the rootfs, or of a type atelet does not unpack. */
export class UnsafeLayerEntryError extends AteletError {
  constructor(entry: string, problem: string) {
    super('UNSAFE_LAYER_ENTRY', `layer entry ${JSON.stringify(entry)} refused: ${problem}`);
  }
}

/** The snapshot to restore has no manifest (never committed, or gone). */
export class SnapshotNotFoundError extends AteletError {
  constructor(where: string, options?: { cause?: unknown }) {
    super('SNAPSHOT_NOT_FOUND', `snapshot ${where} not found (no manifest)`, options);
  }
}

/** A snapshot whose files fail verification; it is never restored. */
export class SnapshotIntegrityError extends AteletError {
  constructor(where: string, problem: string, options?: { cause?: unknown }) {
    super('SNAPSHOT_INTEGRITY', `snapshot ${where} failed verification: ${problem}`, options);
  }
}

/** Checkpoint of a worker that runs nothing atelet knows of, or another actor. */
export class NotRunningError extends AteletError {
  constructor(worker: string, problem: string) {
    super('NOT_RUNNING', `worker ${worker}: ${problem}`);
  }
}

/** The worker's ateom cannot be reached on its socket. */
export class AteomUnavailableError extends AteletError {
  constructor(worker: string, problem: string, options?: { cause?: unknown }) {
    super('ATEOM_UNAVAILABLE', `ateom of worker ${worker} unavailable: ${problem}`, options);
  }
}

/** No log directory for the actor on this node (it never ran here, or the log dir is another). */
export class ActorLogNotFoundError extends AteletError {
  constructor(
    readonly atespace: string,
    readonly actorId: string,
  ) {
    super(
      'ACTOR_LOG_NOT_FOUND',
      `no log of actor ${actorId} in atespace ${atespace === '' ? '(none)' : atespace} on this node`,
    );
  }
}

/** atelet is stopping and takes no new operation. */
export class ShuttingDownError extends AteletError {
  constructor() {
    super('SHUTTING_DOWN', 'atelet is shutting down');
  }
}

/** A storage or transfer failure that is neither a missing nor a damaged snapshot. */
export class StorageFailureError extends AteletError {
  constructor(
    readonly grpcHint:
      'UNAVAILABLE' | 'DEADLINE_EXCEEDED' | 'PERMISSION_DENIED' | 'FAILED_PRECONDITION' | 'INTERNAL',
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ASSET_FETCH_FAILED', message, options);
  }
}

/**
 * A status the worker's ateom answered with: it reaches atelet's caller with the same code and message
 * (e.g. FAILED_PRECONDITION for a pinned runsc that does not match, DEADLINE_EXCEEDED for a container
 * that never became ready).
 */
export class AteomCallError extends Error {
  readonly code = 'ATEOM_STATUS';

  constructor(
    readonly grpcCode: number,
    readonly details: string,
    operation: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation}: ${details}`, options);
    this.name = 'AteomCallError';
  }
}
