import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';

import { EncodeAbortedError, NotARegularFileError, SourceChangedError } from './errors';
import { ExtentList, nonZeroRuns } from './extents';
import { Sha256Offload } from './hash-offload';
import { END_MARKER, FILE_ENCODING, crc32Hex, extentHeader, int64, streamHeader } from './format';
import { type SnapshotFileEntry, type SnapshotFrame } from './manifest';
import { assertFileName } from './names';
import {
  DEFAULT_COMPRESSION_LEVEL,
  DEFAULT_COMPRESSION_THREADS,
  ZstdCompressor,
  checkCompressionLevel,
  checkCompressionThreads,
  type CompressOptions,
} from './zstd';

/** Granularity of hole detection: a 64 KiB block of zeros is stored as a hole. */
export const DEFAULT_HOLE_BLOCK_SIZE = 64 * 1024;
/** Bytes read from the source per step: large enough to amortise system calls, small enough to stay cheap. */
export const DEFAULT_READ_CHUNK_SIZE = 1024 * 1024;
/**
 * Payload bytes after which the encoder ends a zstd frame (at the next record boundary) and starts another:
 * frames decode independently, so a download decodes several at once. 16 MiB keeps a 100 MiB snapshot in
 * 7 frames, enough to share among a few threads, for well under 0.1% of compression ratio. Smaller frames
 * slow compression down: zstd's worker threads must all finish a frame before the next one starts (8 MiB
 * frames made a 362 MiB checkpoint image ~15% slower to compress, 16 MiB ~5%).
 */
export const DEFAULT_FRAME_SIZE = 16 * 1024 * 1024;

/** Options of {@link encodeFile}. */
export interface EncodeOptions extends CompressOptions {
  /** Name recorded in the manifest; defaults to the path's last segment. */
  readonly name?: string;
  /**
   * Store all-zero blocks as holes (default true). With false the file is stored as one extent, zeros
   * included.
   */
  readonly sparse?: boolean;
  /** Hole-detection block size: a power of two from 4 KiB to the read chunk size. Default 64 KiB. */
  readonly holeBlockSize?: number;
  /** Read size, a multiple of the block size. Default 1 MiB. */
  readonly readChunkSize?: number;
  /** Payload bytes per zstd frame (at least the read size; see {@link DEFAULT_FRAME_SIZE}). */
  readonly frameSize?: number;
  /**
   * Called after each chunk of the file has been read and handed to zstd, with the bytes it covered (holes
   * included), so the calls add up to the file's size. For progress reporting; must not throw.
   */
  readonly onProgress?: (bytes: number) => void;
}

/** The result of {@link encodeFile}. */
export interface EncodedFile {
  /** The file's name in the manifest. */
  readonly name: string;
  /** The compressed bytes to store as the object `<name>.zstd`. Reading it drives the encoding. */
  readonly stream: Readable;
  /**
   * The manifest entry, resolved once `stream` has been read to its end; rejected with the stream's error
   * if encoding fails or the stream is destroyed first.
   */
  readonly entry: Promise<SnapshotFileEntry>;
}

function checkSizes(options: EncodeOptions): { block: number; chunk: number; frame: number } {
  const block = options.holeBlockSize ?? DEFAULT_HOLE_BLOCK_SIZE;
  const chunk = options.readChunkSize ?? DEFAULT_READ_CHUNK_SIZE;
  const frame = options.frameSize ?? DEFAULT_FRAME_SIZE;
  const powerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (!powerOfTwo(block) || block < 4096) {
    throw new RangeError(`holeBlockSize must be a power of two of at least 4096, got ${block}`);
  }
  if (!Number.isInteger(chunk) || chunk < block || chunk % block !== 0) {
    throw new RangeError(
      `readChunkSize must be a positive multiple of holeBlockSize (${block}), got ${chunk}`,
    );
  }
  if (!Number.isSafeInteger(frame) || frame < chunk) {
    throw new RangeError(`frameSize must be an integer of at least readChunkSize (${chunk}), got ${frame}`);
  }
  return { block, chunk, frame };
}

/** Destroying a stream made by `Readable.from` throws an AbortError into its generator. */
function isAbort(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

function lastSegment(path: string): string {
  const parts = path.split('/').filter((part) => part !== '');
  return parts[parts.length - 1] ?? path;
}

/**
 * Reads the file at `path` once, front to back, and yields its compressed stream. Calls `done` with the
 * manifest entry (less `compressedSize`) after the last chunk.
 */
async function* encodeChunks(
  path: string,
  name: string,
  options: EncodeOptions,
  done: (entry: Omit<SnapshotFileEntry, 'compressedSize' | 'compressedCrc32'>) => void,
  abandoned: () => boolean,
): AsyncGenerator<Buffer> {
  const { block, chunk, frame } = checkSizes(options);
  const sparse = options.sparse ?? true;
  const compressor = new ZstdCompressor(options);
  // The current frame's compressed bytes (yielded so far) and payload bytes (handed to zstd so far).
  const frames: SnapshotFrame[] = [];
  let frameCompressed = 0;
  let framePayload = 0;
  function* counted(chunks: Buffer[]): Generator<Buffer> {
    for (const out of chunks) {
      frameCompressed += out.length;
      yield out;
    }
  }
  const push = (bytes: Buffer): Generator<Buffer> => {
    framePayload += bytes.length;
    return counted(compressor.push(bytes));
  };
  function* endFrame(): Generator<Buffer> {
    yield* counted(compressor.end());
    frames.push({ compressed: frameCompressed, payload: framePayload });
    frameCompressed = 0;
    framePayload = 0;
  }
  const handle = await open(path, 'r');
  let hash: Sha256Offload | undefined;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new NotARegularFileError(path);
    const rawSize = stat.size;
    hash = new Sha256Offload(rawSize);
    const extents = new ExtentList();
    const window = Buffer.allocUnsafe(chunk);
    const zeros = Buffer.alloc(block);

    yield streamHeader();
    yield* push(int64(rawSize));
    for (let position = 0; position < rawSize;) {
      // A consumer that gave up (the stream was destroyed) is noticed only at a yield, and with zstd's
      // worker threads many chunks may be read before one yields output: stop reading at once instead.
      if (abandoned()) return;
      const want = Math.min(chunk, rawSize - position);
      const { bytesRead } = await handle.read(window, 0, want, position);
      if (bytesRead === 0)
        throw new SourceChangedError(path, `shrank below ${rawSize} bytes while it was read`);
      const data = window.subarray(0, bytesRead);
      const runs = sparse ? nonZeroRuns(data, block, zeros) : [{ start: 0, end: bytesRead }];
      for (const run of runs) {
        const piece = data.subarray(run.start, run.end);
        const hashing = hash.update(piece);
        if (hashing !== undefined) await hashing;
        extents.add(position + run.start, piece.length);
        yield* push(extentHeader(position + run.start, piece.length));
        yield* push(piece);
        // A record never spans two frames: the next one starts a frame of its own.
        if (framePayload >= frame) yield* endFrame();
      }
      position += bytesRead;
      options.onProgress?.(bytesRead);
    }
    if ((await handle.stat()).size !== rawSize) {
      throw new SourceChangedError(path, `changed size from ${rawSize} bytes while it was read`);
    }
    yield* push(int64(END_MARKER));
    yield* endFrame();
    const sha256 = await hash.digest();
    done({ name, encoding: FILE_ENCODING, rawSize, sha256, extents: extents.toArray(), frames });
  } finally {
    hash?.cancel();
    await handle.close();
  }
}

/**
 * Encodes one local file as a snapshot object: reads it once, stores only its data extents (all-zero
 * 64 KiB blocks become holes), compresses with zstd and hashes the data on the way.
 *
 * Nothing happens until `stream` is read; pipe it to the object store. `entry` resolves when the stream has
 * ended. Memory use is bounded (one read chunk plus the zstd window) whatever the file size.
 *
 * Errors (`stream` emits them and `entry` rejects): {@link NotARegularFileError}, {@link SourceChangedError}
 * when the file changes size while read, and the file system's own errors (`ENOENT`, `EACCES`) as thrown.
 *
 * @example
 * ```ts
 * const encoded = encodeFile('/var/lib/checkpoint/pages.img');
 * await store.put(`${prefix}/pages.img.zstd`, encoded.stream);
 * const entry = await encoded.entry;
 * ```
 */
export function encodeFile(path: string, options: EncodeOptions = {}): EncodedFile {
  const name = options.name ?? lastSegment(path);
  assertFileName(name);
  checkSizes(options);
  checkCompressionLevel(options.level ?? DEFAULT_COMPRESSION_LEVEL);
  checkCompressionThreads(options.threads ?? DEFAULT_COMPRESSION_THREADS);

  let resolve!: (entry: SnapshotFileEntry) => void;
  let reject!: (error: unknown) => void;
  const entry = new Promise<SnapshotFileEntry>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The caller may only watch the stream; the rejection still reaches whoever awaits `entry`.
  entry.catch(() => undefined);

  async function* counted(): AsyncGenerator<Buffer> {
    let compressedSize = 0;
    let crc = 0;
    const compressedHash = createHash('sha256');
    let partial:
      Omit<SnapshotFileEntry, 'compressedSize' | 'compressedCrc32' | 'compressedSha256'> | undefined;
    let settled = false;
    try {
      const chunks = encodeChunks(
        path,
        name,
        options,
        (e) => (partial = e),
        () => stream.destroyed,
      );
      for await (const chunk of chunks) {
        compressedSize += chunk.length;
        crc = crc32(chunk, crc);
        compressedHash.update(chunk);
        yield chunk;
      }
      if (partial !== undefined) {
        settled = true;
        resolve({
          ...partial,
          compressedSize,
          compressedCrc32: crc32Hex(crc),
          compressedSha256: compressedHash.digest('hex'),
        });
      }
    } catch (error) {
      settled = true;
      // Destroying the stream throws an AbortError into this generator.
      reject(isAbort(error) ? new EncodeAbortedError(name, { cause: error }) : error);
      throw error;
    } finally {
      if (!settled) reject(new EncodeAbortedError(name));
    }
  }

  const stream = Readable.from(counted(), { objectMode: false });
  return { name, stream, entry };
}
