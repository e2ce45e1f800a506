/** A run of bytes that holds data; everything outside the extents of a file is a hole (reads as zeros). */
export interface Extent {
  /** Byte offset of the first data byte. */
  readonly offset: number;
  /** Number of data bytes; always positive. */
  readonly length: number;
}

/** Total data bytes of `extents` (what is stored, as opposed to the file's apparent size). */
export function dataBytes(extents: readonly Extent[]): number {
  let total = 0;
  for (const extent of extents) total += extent.length;
  return total;
}

/**
 * Accumulates extents in ascending order and merges each one that starts exactly where the previous one
 * ended, so the result is the canonical list: sorted, positive lengths, neither overlapping nor touching.
 */
export class ExtentList {
  private readonly list: { offset: number; length: number }[] = [];

  /** End of the last extent added, or 0. */
  get end(): number {
    const last = this.list[this.list.length - 1];
    return last === undefined ? 0 : last.offset + last.length;
  }

  /** Adds `[offset, offset + length)`; the caller guarantees `offset >= end`. Empty extents are ignored. */
  add(offset: number, length: number): void {
    if (length === 0) return;
    const last = this.list[this.list.length - 1];
    if (last !== undefined && last.offset + last.length === offset) last.length += length;
    else this.list.push({ offset, length });
  }

  /** A copy of the merged list. */
  toArray(): Extent[] {
    return this.list.map(({ offset, length }) => ({ offset, length }));
  }
}

/** True when both lists describe the same extents, in the same order. */
export function sameExtents(a: readonly Extent[], b: readonly Extent[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((extent, i) => extent.offset === b[i]?.offset && extent.length === b[i]?.length);
}

/**
 * Runs of non-zero blocks in `window`, a buffer read from `position` of a file: each returned range is
 * relative to the window. A block is `blockSize` bytes aligned to the window start (the last one may be
 * shorter); a block holding only zeros is a hole.
 */
export function nonZeroRuns(
  window: Buffer,
  blockSize: number,
  zeros: Buffer,
): { start: number; end: number }[] {
  const runs: { start: number; end: number }[] = [];
  let runStart = -1;
  for (let start = 0; start < window.length; start += blockSize) {
    const end = Math.min(start + blockSize, window.length);
    const isHole = window.subarray(start, end).equals(zeros.subarray(0, end - start));
    if (!isHole && runStart < 0) runStart = start;
    if (isHole && runStart >= 0) {
      runs.push({ start: runStart, end: start });
      runStart = -1;
    }
  }
  if (runStart >= 0) runs.push({ start: runStart, end: window.length });
  return runs;
}
