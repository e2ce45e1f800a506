import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type SnapshotMetadata } from '../src/index';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** The metadata every test snapshot records. */
export const METADATA: SnapshotMetadata = {
  sandboxClass: 'gvisor',
  scope: 'Full',
  assets: {
    runsc: {
      url: 'gs://gvisor/releases/release/20260622/x86_64/runsc',
      sha256: 'f18a948bf9c8bbb54eb998549a3a8d719a1c7de2efbe8fdd2ff0ee5fecd06f19',
    },
  },
};

/** A fresh directory under the OS temp dir; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'substrate-snapshot-store-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Gives every test of the calling file a fresh temp directory (passed to `use`), removed after the test. */
export function useTempDir(use: (dir: string) => void): void {
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const made = await tempDir();
    cleanup = made.cleanup;
    use(made.dir);
  });
  afterEach(async () => {
    await cleanup?.();
  });
}

/** Deterministic text: lines that look like a log, compressible but not trivially. */
export function text(bytes: number, seed = 1): Buffer {
  const words = ['actor', 'worker', 'restore', 'checkpoint', 'suspend', 'snapshot', 'zstd', 'gvisor'];
  let state = seed;
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const line = `${state % 100000} ${words[state % words.length] ?? ''} ${words[(state >> 8) % words.length] ?? ''}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

/** Writes `pieces` at their offsets into a new file of apparent size `size` (the rest stays holes). */
export async function writeSparse(
  path: string,
  size: number,
  pieces: readonly { offset: number; data: Buffer }[],
): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.truncate(size);
    for (const { offset, data } of pieces) await handle.write(data, 0, data.length, offset);
  } finally {
    await handle.close();
  }
}

/** Writes a dense file of `size` bytes in 1 MiB steps: text, random and zero MiBs in turn. */
export async function writeMixed(path: string, size: number, seed = 1): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (let offset = 0, i = 0; offset < size; offset += MiB, i++) {
      const length = Math.min(MiB, size - offset);
      const kind = i % 4;
      const data =
        kind < 2 ? text(length, seed + i) : kind === 2 ? randomBytes(length) : Buffer.alloc(length);
      await handle.write(data, 0, length, offset);
    }
  } finally {
    await handle.close();
  }
}

/**
 * A checkpoint-like file set in `dir`, as runsc leaves it: a dense `checkpoint.img` (kernel state), a large
 * sparse `pages.img` (memory: 1 MiB runs of data scattered through holes) and a small `pages_meta.img`.
 * Apparent sizes add up to `totalBytes`. Returns the names.
 */
export async function writeCheckpointSet(dir: string, totalBytes: number, seed = 1): Promise<string[]> {
  const checkpoint = Math.min(16 * MiB, Math.floor(totalBytes / 16));
  const meta = 64 * KiB + 123;
  const pages = totalBytes - checkpoint - meta;
  await writeMixed(join(dir, 'checkpoint.img'), checkpoint, seed);
  const pieces: { offset: number; data: Buffer }[] = [];
  // One MiB of data every 5 MiB, alternating text and random bytes, the last piece ending at the file's end.
  for (let offset = 0, i = 0; offset + MiB <= pages; offset += 5 * MiB, i++) {
    pieces.push({ offset, data: i % 2 === 0 ? text(MiB, seed * 1000 + i) : randomBytes(MiB) });
  }
  pieces.push({ offset: pages - 4 * KiB, data: text(4 * KiB, seed + 7) });
  await writeSparse(join(dir, 'pages.img'), pages, pieces);
  await writeSparse(join(dir, 'pages_meta.img'), meta, [{ offset: 0, data: text(meta, seed + 3) }]);
  return ['checkpoint.img', 'pages.img', 'pages_meta.img'];
}

/** sha256 of a file's whole content (holes read as zeros), streamed. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
