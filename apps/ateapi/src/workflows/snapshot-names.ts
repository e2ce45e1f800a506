import { randomBytes } from 'node:crypto';
import { newSnapshotPrefix } from '@substrate/snapshot-store';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** 26 random base32 characters (130 bits), like Go's crypto/rand.Text that upstream uses. */
export function randomText(): string {
  const bytes = randomBytes(26);
  let out = '';
  for (const byte of bytes) out += BASE32[byte & 31];
  return out;
}

/** A UTC timestamp that sorts lexically in time order and is safe in object keys: 20261130T093015123Z. */
export function compactTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('.', '');
}

/**
 * The object-store prefix of a new suspend snapshot: `<location>/<actor>.<atespace>/<time>-<random>`, in
 * the snapshot-store layout (RFC 3339 time with milliseconds, 26 base32 characters). Upstream uses
 * `<location>/<actor>/…`; the atespace is added so two actors with the same ID in different atespaces
 * never share (or garbage-collect) each other's snapshots. Actor IDs and atespaces are DNS labels, so
 * the dot is unambiguous and the actor stays one path segment.
 */
export function externalSnapshotPrefix(
  location: string,
  atespace: string,
  actorId: string,
  nowMs: number,
): string {
  return `${location.replace(/\/$/, '')}/${newSnapshotPrefix(actorSnapshotSegment(atespace, actorId), { now: new Date(nowMs) })}`;
}

/** The path segment that holds one actor's snapshots under a template's location. */
export function actorSnapshotSegment(atespace: string, actorId: string): string {
  return `${actorId}.${atespace}`;
}

/** The node-local directory name of a new pause snapshot: `<actor>-<time>-<random>`. */
export function localSnapshotPrefix(actorId: string, nowMs: number): string {
  return `${actorId}-${compactTimestamp(nowMs)}-${randomText()}`;
}
