import { MANIFEST_FILE_NAME } from '@substrate/snapshot';
import { type ObjectStore } from '@substrate/storage';

import { InvalidOptionError } from './errors';
import { assertActorId, compareSnapshots, snapshotLocation, type SnapshotLocation } from './layout';

/** A snapshot found in the store, committed or not. */
export interface SnapshotInfo extends SnapshotLocation {
  /** Its `manifest.json` exists: readers may use it. Without it the snapshot is unfinished or abandoned. */
  readonly committed: boolean;
  /** Objects under its prefix, the manifest included. */
  readonly objects: number;
  /** Their total size. */
  readonly bytes: number;
}

/** Options of {@link listSnapshots}. */
export interface ListSnapshotsOptions {
  /** Only this actor's snapshots. */
  readonly actorId?: string;
  /** Leave out snapshots without a manifest (what readers see). Default false. */
  readonly committedOnly?: boolean;
}

/**
 * Normalises a snapshot location inside a store: `''` (the store is opened at the location itself) or a key
 * prefix ending in `/`.
 */
export function normalizeLocation(location: string): string {
  if (location === '' || location === '/') return '';
  if (location.startsWith('/')) {
    throw new InvalidOptionError('location', `${JSON.stringify(location)} must be relative to the store`);
  }
  return location.endsWith('/') ? location : `${location}/`;
}

/**
 * Every snapshot under `location` (a key prefix inside the store, `''` when the store is opened at the
 * snapshot location itself), oldest first per actor and actors in key order. One listing of the store; keys
 * that do not follow the layout (`<actor-id>/<timestamp>-<random>/…`) are not snapshots and are left out.
 */
export async function listSnapshots(
  store: ObjectStore,
  location: string,
  options: ListSnapshotsOptions = {},
): Promise<SnapshotInfo[]> {
  const base = normalizeLocation(location);
  if (options.actorId !== undefined) assertActorId(options.actorId);
  const listPrefix = options.actorId === undefined ? base : `${base}${options.actorId}/`;
  const found = new Map<
    string,
    { location: SnapshotLocation; objects: number; bytes: number; committed: boolean }
  >();
  for await (const object of store.list(listPrefix)) {
    const parts = object.key.slice(base.length).split('/');
    if (parts.length < 3) continue;
    const [actorId = '', snapshotId = ''] = parts;
    const key = `${actorId}/${snapshotId}`;
    let entry = found.get(key);
    if (entry === undefined) {
      const parsed = snapshotLocation(actorId, snapshotId);
      if (parsed === undefined) continue;
      entry = {
        location: { ...parsed, prefix: `${base}${parsed.prefix}` },
        objects: 0,
        bytes: 0,
        committed: false,
      };
      found.set(key, entry);
    }
    entry.objects++;
    entry.bytes += object.size;
    if (parts.length === 3 && parts[2] === MANIFEST_FILE_NAME) entry.committed = true;
  }
  const snapshots = [...found.values()]
    .map(({ location: where, objects, bytes, committed }) => ({ ...where, objects, bytes, committed }))
    .filter((snapshot) => snapshot.committed || options.committedOnly !== true);
  return snapshots.sort(
    (a, b) => (a.actorId < b.actorId ? -1 : a.actorId > b.actorId ? 1 : 0) || compareSnapshots(a, b),
  );
}

/**
 * The newest committed snapshot of `actorId` under `location`, or `undefined` when it has none. Snapshots
 * without a manifest (unfinished or abandoned uploads) are ignored.
 */
export async function latestCommittedSnapshot(
  store: ObjectStore,
  location: string,
  actorId: string,
): Promise<SnapshotInfo | undefined> {
  const snapshots = await listSnapshots(store, location, { actorId, committedOnly: true });
  return snapshots[snapshots.length - 1];
}
