// @substrate/snapshot-store — snapshots in object storage: the layout (`<actor-id>/<timestamp>-<random>/`,
// manifest last as the commit marker), the parallel mover with retries, progress and cancellation, the
// catalogue (list, latest committed) and garbage collection.

export {
  DeadlineExceededError,
  InvalidActorIdError,
  InvalidOptionError,
  InvalidSnapshotPrefixError,
  SnapshotNotFoundError,
  SnapshotStoreError,
  TransferAbortedError,
  isSnapshotStoreError,
  type SnapshotStoreErrorCode,
} from './lib/errors';
export {
  SNAPSHOT_RANDOM_LENGTH,
  actorIdProblem,
  assertActorId,
  compareSnapshots,
  manifestKey,
  newSnapshotPrefix,
  parseSnapshotPrefix,
  snapshotKey,
  type NewSnapshotPrefixOptions,
  type SnapshotLocation,
} from './lib/layout';
export { DEFAULT_RETRY_POLICY, TRANSIENT_STORAGE_CODES, type RetryPolicy } from './lib/retry';
export {
  DEFAULT_TRANSFER_CONCURRENCY,
  downloadSnapshot,
  readSnapshotManifest,
  uploadSnapshot,
  type DownloadOptions,
  type DownloadResult,
  type SnapshotMetadata,
  type TransferOptions,
  type TransferProgress,
  type TransferRetry,
  type UploadOptions,
  type UploadResult,
} from './lib/mover';
export {
  latestCommittedSnapshot,
  listSnapshots,
  type ListSnapshotsOptions,
  type SnapshotInfo,
} from './lib/catalog';
export {
  DEFAULT_KEEP_LATEST,
  DEFAULT_ORPHAN_GRACE_MS,
  collectSnapshots,
  deleteActorSnapshots,
  type CollectFailure,
  type CollectOptions,
  type CollectReason,
  type CollectReport,
  type CollectedSnapshot,
  type DeleteActorReport,
} from './lib/gc';
