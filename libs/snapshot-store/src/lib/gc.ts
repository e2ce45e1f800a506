import { type ObjectStore } from '@substrate/storage';

import { listSnapshots, normalizeLocation, type SnapshotInfo } from './catalog';
import { InvalidOptionError } from './errors';
import { assertActorId, manifestKey, snapshotLocation } from './layout';

/** Committed snapshots kept per actor by default. */
export const DEFAULT_KEEP_LATEST = 2;
/** Default age after which a snapshot without a manifest counts as abandoned: 1 hour. */
export const DEFAULT_ORPHAN_GRACE_MS = 60 * 60 * 1000;

/** Options of {@link collectSnapshots}. */
export interface CollectOptions {
  /** Committed snapshots kept per actor, newest first; at least 1. Default {@link DEFAULT_KEEP_LATEST}. */
  readonly keepLatest?: number;
  /**
   * A snapshot without a manifest is deleted only once it is older than this (by the time in its id, which is
   * when its upload started), so uploads in progress are left alone: make it longer than the slowest upload.
   * Default {@link DEFAULT_ORPHAN_GRACE_MS}.
   */
  readonly orphanGraceMs?: number;
  /** Only this actor's snapshots. */
  readonly actorId?: string;
  /** Report what would be deleted without deleting anything. */
  readonly dryRun?: boolean;
  /** The current time, for the grace period. Default now. */
  readonly now?: Date;
}

/** Why a snapshot was collected. */
export type CollectReason =
  /** Committed, but older than the `keepLatest` newest committed snapshots of its actor. */
  | 'superseded'
  /** Never committed (no manifest) and older than the grace period: an abandoned upload. */
  | 'orphaned';

/** A snapshot {@link collectSnapshots} deleted (or, in a dry run, would delete). */
export interface CollectedSnapshot extends SnapshotInfo {
  readonly reason: CollectReason;
}

/** A snapshot whose deletion failed; the others were still collected. */
export interface CollectFailure {
  readonly prefix: string;
  readonly error: unknown;
}

/** What {@link collectSnapshots} did. */
export interface CollectReport {
  readonly dryRun: boolean;
  /** Snapshots deleted (or to delete, in a dry run), oldest first per actor. */
  readonly deleted: readonly CollectedSnapshot[];
  /** Snapshots left in place: the newest committed ones and uploads still within the grace period. */
  readonly kept: number;
  /** Objects and bytes deleted (or that would be). */
  readonly objectsDeleted: number;
  readonly bytesFreed: number;
  /**
   * Uploads aborted (or that would be) because they started more than `orphanGraceMs` ago and never completed:
   * what an uploader killed mid-file leaves and no listing shows (S3 multipart uploads with their stored
   * parts, `file://` temp files). Not in `objectsDeleted`/`bytesFreed`: their size is not known. Always 0 on
   * `gs://` (see `ObjectStore.abortIncompleteUploads`).
   */
  readonly abortedUploads: number;
  /** Deletions that failed (each may be retried by the next run). */
  readonly failures: readonly CollectFailure[];
}

function checkOptions(options: CollectOptions): { keepLatest: number; graceMs: number; now: number } {
  const keepLatest = options.keepLatest ?? DEFAULT_KEEP_LATEST;
  const graceMs = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  if (!Number.isInteger(keepLatest) || keepLatest < 1) {
    throw new InvalidOptionError('keepLatest', `${keepLatest} is not an integer ≥ 1`);
  }
  if (!Number.isFinite(graceMs) || graceMs < 0) {
    throw new InvalidOptionError('orphanGraceMs', `${graceMs} is not a number ≥ 0`);
  }
  return { keepLatest, graceMs, now: (options.now ?? new Date()).getTime() };
}

/** Whether `key` (relative to the location) lies inside a snapshot: `<actor-id>/<timestamp>-<random>/…`. */
function inSnapshotLayout(key: string): boolean {
  const [actorId = '', snapshotId = '', ...rest] = key.split('/');
  return rest.length > 0 && snapshotLocation(actorId, snapshotId) !== undefined;
}

/**
 * Deletes one snapshot: its manifest first, so readers stop seeing it at once and a deletion cut short leaves
 * an uncommitted snapshot (collected later) rather than a committed one with missing files.
 */
async function deleteSnapshot(store: ObjectStore, snapshot: SnapshotInfo): Promise<void> {
  if (snapshot.committed) await store.delete(manifestKey(snapshot.prefix));
  await store.deletePrefix(`${snapshot.prefix}/`);
}

/**
 * Garbage-collects the snapshots under `location` (a key prefix inside the store, `''` when the store is
 * opened at the snapshot location itself): per actor, keeps the `keepLatest` newest committed snapshots and
 * deletes the older committed ones, and deletes snapshots without a manifest once they are older than
 * `orphanGraceMs`. It also aborts the uploads inside snapshots that started more than `orphanGraceMs` ago and
 * never completed (`ObjectStore.abortIncompleteUploads`): an uploader killed mid-file leaves such an upload,
 * which no listing shows (and a snapshot killed during its first file has nothing else). Keys that do not
 * follow the snapshot layout are never touched. A failed deletion is reported in `failures` and the others
 * go on.
 *
 * A restore that is reading a snapshot while it is collected fails (object not found), so keep at least the
 * snapshot actors are pointed at: with `keepLatest` ≥ 1 the newest committed one always survives.
 *
 * @throws InvalidOptionError for a bad option, StorageError when the listing fails.
 *
 * @example
 * ```ts
 * const report = await collectSnapshots(store, '', { keepLatest: 2, orphanGraceMs: 3_600_000 });
 * console.log(`freed ${report.bytesFreed} bytes in ${report.deleted.length} snapshots`);
 * ```
 */
export async function collectSnapshots(
  store: ObjectStore,
  location: string,
  options: CollectOptions = {},
): Promise<CollectReport> {
  const { keepLatest, graceMs, now } = checkOptions(options);
  const base = normalizeLocation(location);
  const snapshots = await listSnapshots(store, base, {
    ...(options.actorId === undefined ? {} : { actorId: options.actorId }),
  });
  const byActor = new Map<string, SnapshotInfo[]>();
  for (const snapshot of snapshots) {
    const list = byActor.get(snapshot.actorId) ?? [];
    list.push(snapshot);
    byActor.set(snapshot.actorId, list);
  }
  const doomed: CollectedSnapshot[] = [];
  for (const list of byActor.values()) {
    const committed = list.filter((snapshot) => snapshot.committed); // oldest first
    const superseded = new Set(committed.slice(0, Math.max(0, committed.length - keepLatest)));
    for (const snapshot of list) {
      if (superseded.has(snapshot)) doomed.push({ ...snapshot, reason: 'superseded' });
      else if (!snapshot.committed && now - snapshot.takenAt.getTime() > graceMs) {
        doomed.push({ ...snapshot, reason: 'orphaned' });
      }
    }
  }
  const dryRun = options.dryRun === true;
  const deleted: CollectedSnapshot[] = [];
  const failures: CollectFailure[] = [];
  // Before the deletions, so a dry run counts what the real run aborts (deleting an orphaned snapshot on
  // file:// would also take its temp files with it).
  const sweepPrefix = options.actorId === undefined ? base : `${base}${options.actorId}/`;
  let abortedUploads = 0;
  try {
    abortedUploads = await store.abortIncompleteUploads(sweepPrefix, {
      startedBefore: new Date(now - graceMs),
      dryRun,
      filter: (key) => inSnapshotLayout(key.slice(base.length)),
    });
  } catch (error) {
    failures.push({ prefix: sweepPrefix, error });
  }
  for (const snapshot of doomed) {
    try {
      if (!dryRun) await deleteSnapshot(store, snapshot);
      deleted.push(snapshot);
    } catch (error) {
      failures.push({ prefix: snapshot.prefix, error });
    }
  }
  return {
    dryRun,
    deleted,
    kept: snapshots.length - doomed.length,
    objectsDeleted: deleted.reduce((sum, snapshot) => sum + snapshot.objects, 0),
    bytesFreed: deleted.reduce((sum, snapshot) => sum + snapshot.bytes, 0),
    abortedUploads,
    failures,
  };
}

/** What {@link deleteActorSnapshots} deleted. */
export interface DeleteActorReport {
  /** Snapshots deleted, committed or not. */
  readonly snapshots: number;
  readonly objectsDeleted: number;
  readonly bytesFreed: number;
}

/**
 * Deletes every snapshot of `actorId` under `location`, for when the actor itself is deleted: first every
 * manifest (so no reader picks a snapshot up any more), then everything under `<location><actor-id>/`,
 * including objects that do not follow the layout.
 *
 * @throws InvalidActorIdError, StorageError.
 */
export async function deleteActorSnapshots(
  store: ObjectStore,
  location: string,
  actorId: string,
): Promise<DeleteActorReport> {
  assertActorId(actorId);
  const base = normalizeLocation(location);
  const snapshots = await listSnapshots(store, base, { actorId });
  const actorPrefix = `${base}${actorId}/`;
  let objectsDeleted = 0;
  let bytesFreed = 0;
  for await (const object of store.list(actorPrefix)) {
    objectsDeleted++;
    bytesFreed += object.size;
  }
  for (const snapshot of snapshots) {
    if (snapshot.committed) await store.delete(manifestKey(snapshot.prefix));
  }
  await store.deletePrefix(actorPrefix);
  return { snapshots: snapshots.length, objectsDeleted, bytesFreed };
}
