import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import { encodeFile, type EncodeOptions, type SnapshotFileEntry } from '../src/index';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** A fresh directory under the OS temp dir; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'substrate-snapshot-'));
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

/** Writes `pieces` at their offsets into a new file of apparent size `size` (the rest stays holes). */
export async function writeSparse(
  path: string,
  size: number,
  pieces: { offset: number; data: Buffer }[],
): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.truncate(size);
    for (const { offset, data } of pieces) await handle.write(data, 0, data.length, offset);
  } finally {
    await handle.close();
  }
}

/** Deterministic text: lines that look like a log, compressible but not trivially. */
export function text(bytes: number, seed = 1): Buffer {
  const words = [
    'actor',
    'worker',
    'restore',
    'checkpoint',
    'suspend',
    'snapshot',
    'zstd',
    'gvisor',
    'pool',
    'lease',
  ];
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

/** Writes a file of `size` bytes chunk by chunk (never held in memory): text, random and zero MiBs in turn. */
export async function writeMixed(path: string, size: number): Promise<void> {
  const texts = [text(MiB, 1), text(MiB, 2), text(MiB, 3)];
  const handle = await open(path, 'w');
  try {
    for (let offset = 0, i = 0; offset < size; offset += MiB, i++) {
      const length = Math.min(MiB, size - offset);
      const kind = i % 4;
      const data =
        kind < 2 ? (texts[i % 3] as Buffer) : kind === 2 ? randomBytes(length) : Buffer.alloc(length);
      await handle.write(data, 0, length, offset);
    }
  } finally {
    await handle.close();
  }
}

/** sha256 of a file's whole content, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Encodes `path` into `objectPath` (a file standing in for the object store) and returns the entry. */
export async function encodeToFile(
  path: string,
  objectPath: string,
  options: EncodeOptions = {},
): Promise<SnapshotFileEntry> {
  const encoded = encodeFile(path, options);
  const out = await open(objectPath, 'w');
  await pipeline(encoded.stream, out.createWriteStream());
  return encoded.entry;
}

/** Encodes `path` into memory (small files only). */
export async function encodeToBuffer(
  path: string,
  options: EncodeOptions = {},
): Promise<{ bytes: Buffer; entry: SnapshotFileEntry }> {
  const encoded = encodeFile(path, options);
  const chunks: Buffer[] = [];
  for await (const chunk of encoded.stream) chunks.push(chunk as Buffer);
  return { bytes: Buffer.concat(chunks), entry: await encoded.entry };
}

/** `bytes` in chunks of `chunkSize`, as a network body would arrive. */
export async function* chunked(bytes: Buffer, chunkSize = 4 * KiB): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += chunkSize) {
    await Promise.resolve();
    yield bytes.subarray(i, i + chunkSize);
  }
}

/** Names in `dir`, to prove no temporary file was left behind. */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
