import { randomBytes } from 'node:crypto';

import { MANIFEST_FILE_NAME } from '@substrate/snapshot';

import { InvalidActorIdError, InvalidSnapshotPrefixError } from './errors';

/**
 * Object layout of snapshots in a store opened at a snapshot location (the template's
 * `snapshotsConfig.location`):
 *
 * ```
 * <actor-id>/<timestamp>-<random>/<file>.zstd   one object per snapshot file
 * <actor-id>/<timestamp>-<random>/manifest.json written last: the commit marker
 * ```
 *
 * `<timestamp>` is RFC 3339 UTC with milliseconds (`2026-05-22T21:49:15.120Z`), `<random>` 26 characters of
 * RFC 4648 base32 (130 random bits), as upstream's `rand.Text()`. Golden snapshots follow the same layout
 * under the template's location, with the golden actor's id as `<actor-id>`.
 */

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Characters of the random part of a snapshot id. */
export const SNAPSHOT_RANDOM_LENGTH = 26;
const MAX_ACTOR_ID_BYTES = 255;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
/** `<timestamp>-<random>`; upstream's second-precision timestamps (`…15Z`) are accepted too. */
const SNAPSHOT_ID =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))-([A-Z2-7]{26})$/;

/** A snapshot's place in the layout. */
export interface SnapshotLocation {
  /** The actor the snapshot belongs to (first key segment). */
  readonly actorId: string;
  /** `<timestamp>-<random>`: the snapshot's version, unique per actor. */
  readonly snapshotId: string;
  /**
   * `[<location>/]<actor-id>/<timestamp>-<random>`: the key prefix of the snapshot's objects, relative to the
   * store's base, without a trailing `/`.
   */
  readonly prefix: string;
  /** When the snapshot was started, from its id. */
  readonly takenAt: Date;
}

/** Why `actorId` cannot be a segment of the layout, or `undefined` when it can. */
export function actorIdProblem(actorId: string): string | undefined {
  if (actorId.length === 0) return 'must not be empty';
  if (Buffer.byteLength(actorId) > MAX_ACTOR_ID_BYTES) return `must be at most ${MAX_ACTOR_ID_BYTES} bytes`;
  if (actorId === '.' || actorId === '..') return 'must not be . or ..';
  if (actorId.includes('/') || actorId.includes('\\')) return 'must not contain / or \\';
  if (CONTROL_CHARACTERS.test(actorId)) return 'must not contain control characters';
  return undefined;
}

/** Throws {@link InvalidActorIdError} unless `actorId` can be a segment of the layout. */
export function assertActorId(actorId: string): void {
  const problem = actorIdProblem(actorId);
  if (problem !== undefined) throw new InvalidActorIdError(actorId, problem);
}

function randomBase32(length: number): string {
  const bytes = randomBytes(Math.ceil((length * 5) / 8));
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** Options of {@link newSnapshotPrefix}. */
export interface NewSnapshotPrefixOptions {
  /** Key prefix of the snapshot location inside the store; default `''` (the store is opened at it). */
  readonly location?: string;
  /** The snapshot's time; default now. */
  readonly now?: Date;
}

/**
 * A fresh snapshot prefix for `actorId`: `[<location>/]<actor-id>/<timestamp>-<random>`, never used before.
 * Upload the files under it, then the manifest.
 *
 * @throws InvalidActorIdError
 */
export function newSnapshotPrefix(actorId: string, options: NewSnapshotPrefixOptions = {}): string {
  assertActorId(actorId);
  const location = options.location ?? '';
  const base = location === '' || location.endsWith('/') ? location : `${location}/`;
  const now = options.now ?? new Date();
  return `${base}${actorId}/${now.toISOString()}-${randomBase32(SNAPSHOT_RANDOM_LENGTH)}`;
}

/**
 * Splits a snapshot prefix (`[<location>/]<actor-id>/<timestamp>-<random>`, a trailing `/` allowed) into its
 * parts.
 *
 * @throws InvalidSnapshotPrefixError when it is not shaped like one.
 */
export function parseSnapshotPrefix(prefix: string): SnapshotLocation {
  const trimmed = prefix.replace(/\/$/, '');
  const parts = trimmed.split('/');
  if (parts.length < 2 || trimmed.startsWith('/') || parts.some((part) => part === '')) {
    throw new InvalidSnapshotPrefixError(prefix, 'must be [<location>/]<actor-id>/<timestamp>-<random>');
  }
  const snapshotId = parts[parts.length - 1] ?? '';
  const actorId = parts[parts.length - 2] ?? '';
  const problem = actorIdProblem(actorId);
  if (problem !== undefined) throw new InvalidSnapshotPrefixError(prefix, `actor id ${problem}`);
  const location = snapshotLocation(actorId, snapshotId);
  if (location === undefined) {
    throw new InvalidSnapshotPrefixError(prefix, 'the last segment must be <RFC 3339 time>-<26 base32>');
  }
  return { ...location, prefix: trimmed };
}

/** The location of `<actorId>/<snapshotId>`, or `undefined` when `snapshotId` is not a snapshot id. */
export function snapshotLocation(actorId: string, snapshotId: string): SnapshotLocation | undefined {
  const match = SNAPSHOT_ID.exec(snapshotId);
  const time = match?.[1];
  if (time === undefined) return undefined;
  const takenAt = new Date(time);
  if (Number.isNaN(takenAt.getTime())) return undefined;
  return { actorId, snapshotId, prefix: `${actorId}/${snapshotId}`, takenAt };
}

/** Key of an object of the snapshot at `prefix` (`objectName` is `pages.img.zstd` or `manifest.json`). */
export function snapshotKey(prefix: string, objectName: string): string {
  return `${prefix.replace(/\/$/, '')}/${objectName}`;
}

/** Key of the snapshot's commit marker. */
export function manifestKey(prefix: string): string {
  return snapshotKey(prefix, MANIFEST_FILE_NAME);
}

/** Orders snapshots oldest first: by time, then by id (so the order is total and stable). */
export function compareSnapshots(a: SnapshotLocation, b: SnapshotLocation): number {
  const byTime = a.takenAt.getTime() - b.takenAt.getTime();
  if (byTime !== 0) return byTime;
  return a.snapshotId < b.snapshotId ? -1 : a.snapshotId > b.snapshotId ? 1 : 0;
}
