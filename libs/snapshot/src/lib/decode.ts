import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';

import { SnapshotIntegrityError } from './errors';
import { ExtentList, sameExtents, dataBytes, type Extent } from './extents';
import { STREAM_HEADER_LENGTH, STREAM_MAGIC, STREAM_VERSION, crc32Hex } from './format';
import { Sha256Offload } from './hash-offload';
import {
  DEFAULT_DECODE_THREADS,
  decodeFrame,
  frameBuffer,
  framesWorthDecodingApart,
  type FrameResult,
  Violation,
} from './frame-decode';
import { validateFileEntry, type SnapshotFileEntry, type SnapshotFrame } from './manifest';
import { CorruptFrameError, TruncatedFrameError, decompressZstd, type OutputBuffers } from './zstd';

/** What a successful decode found. */
export interface DecodeResult {
  readonly name: string;
  /** Apparent size of the restored file. */
  readonly rawSize: number;
  /** Bytes of data written (the rest of the file is holes). */
  readonly dataBytes: number;
  /** Bytes of compressed input read. */
  readonly compressedSize: number;
}

/** Options of {@link decodeToFile}. */
export interface DecodeOptions {
  /** Permission bits of the restored file; default `0o600`, as upstream writes restore state. */
  readonly mode?: number;
  /** Flush the file to disk before the rename that publishes it (default true). */
  readonly fsync?: boolean;
  /**
   * Worker threads that decode the object's frames at once, when its entry lists several (see
   * `SnapshotFileEntry.frames`); 1 decodes on the calling thread. Default {@link DEFAULT_DECODE_THREADS}.
   */
  readonly threads?: number;
}

/** Where decoded extents go. Writes arrive in ascending offset order; `end` follows the last one. */
interface ExtentSink {
  write(data: Buffer, position: number): Promise<void> | undefined;
  end(): Promise<void>;
  /** Waits for writes in flight after a failure, ignoring their errors, so the file can be closed. */
  settle(): Promise<void>;
}

/**
 * Reuses the decompressor's output buffers once nothing refers to them any more: a retired buffer goes back
 * to the pool when the last write holding one of its slices has finished. Fresh 512 KiB buffers cost a page
 * fault per 4 KiB as zstd fills them; a few reused ones stay mapped (and warm in the cache). Slices are
 * counted by their ArrayBuffer; slices of other buffers (headers the reader stitched together) are ignored.
 */
class OutputRecycler implements OutputBuffers {
  private readonly free: Buffer[] = [];
  /** Buffers handed out, with the writes holding slices of them and whether the decompressor moved on. */
  private readonly owned = new Map<ArrayBufferLike, { buffer: Buffer; holds: number; retired: boolean }>();

  take(size: number): Buffer {
    const buffer = this.free.pop() ?? Buffer.allocUnsafe(size);
    this.owned.set(buffer.buffer, { buffer, holds: 0, retired: false });
    return buffer;
  }

  retire(buffer: Buffer): void {
    const entry = this.owned.get(buffer.buffer);
    if (entry === undefined) return;
    entry.retired = true;
    this.recycleIfUnused(entry);
  }

  /** A write is about to use `slice` (until {@link release}). */
  hold(slice: Uint8Array): void {
    const entry = this.owned.get(slice.buffer);
    if (entry !== undefined) entry.holds++;
  }

  release(slice: Uint8Array): void {
    const entry = this.owned.get(slice.buffer);
    if (entry === undefined) return;
    entry.holds--;
    this.recycleIfUnused(entry);
  }

  private recycleIfUnused(entry: { buffer: Buffer; holds: number; retired: boolean }): void {
    if (!entry.retired || entry.holds > 0) return;
    this.owned.delete(entry.buffer.buffer);
    this.free.push(entry.buffer);
  }
}

/** Bytes gathered before one `writev`: decoded slices are at most ~512 KiB, and often much smaller. */
const WRITE_BATCH = 1024 * 1024;
/** Batches being written at once while decoding goes on (positional writes to disjoint ranges). */
const WRITES_IN_FLIGHT = 4;

/**
 * Gathers contiguous slices and writes them with one positional `writev` per batch. Up to
 * {@link WRITES_IN_FLIGHT} batches are written on the thread pool while the caller decodes the next ones; the
 * slices are fresh buffers the decoder never touches again, so they can be written while it goes on.
 */
class CoalescingWriter implements ExtentSink {
  private batch: Buffer[] = [];
  private start = 0;
  private bytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly recycler: OutputRecycler,
  ) {}

  write(data: Buffer, position: number): Promise<void> | undefined {
    if (this.bytes > 0 && position !== this.start + this.bytes) this.submit();
    if (this.bytes === 0) this.start = position;
    this.recycler.hold(data);
    this.batch.push(data);
    this.bytes += data.length;
    if (this.bytes >= WRITE_BATCH) this.submit();
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    if (this.inFlight.size >= WRITES_IN_FLIGHT) return Promise.race(this.inFlight);
    return undefined;
  }

  async end(): Promise<void> {
    this.submit();
    await Promise.all(this.inFlight);
    if (this.failure !== undefined) throw this.failure.error;
  }

  async settle(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }

  private submit(): void {
    if (this.bytes === 0) return;
    const batch = this.batch;
    const job = this.writeBatch(batch, this.start, this.bytes)
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        for (const slice of batch) this.recycler.release(slice);
      });
    const tracked = job.then(() => {
      this.inFlight.delete(tracked);
    });
    this.inFlight.add(tracked);
    this.batch = [];
    this.bytes = 0;
  }

  private async writeBatch(batch: Buffer[], start: number, bytes: number): Promise<void> {
    const { bytesWritten } = await this.handle.writev(batch, start);
    if (bytesWritten < bytes) {
      // Short write (rare on regular files): finish the rest plainly.
      const rest = Buffer.concat(batch).subarray(bytesWritten);
      let done = 0;
      while (done < rest.length) {
        const { bytesWritten: n } = await this.handle.write(
          rest,
          done,
          rest.length - done,
          start + bytesWritten + done,
        );
        done += n;
      }
    }
  }
}

/**
 * What is checked of the compressed object as it streams by: its size, and its SHA-256 when the manifest
 * records one (else its CRC-32, with the decoded data's SHA-256 checked instead).
 */
interface CompressedCheck {
  bytes: number;
  crc: number;
  readonly hash: Sha256Offload | undefined;
}

/** Strips and checks the clear header; counts and checks every compressed byte (see {@link CompressedCheck}). */
async function* afterHeader(
  source: AsyncIterable<Uint8Array>,
  counter: CompressedCheck,
): AsyncGenerator<Uint8Array> {
  let header = Buffer.alloc(0);
  for await (const chunk of source) {
    counter.bytes += chunk.length;
    if (counter.hash === undefined) {
      counter.crc = crc32(chunk, counter.crc);
    } else {
      const hashing = counter.hash.update(chunk);
      if (hashing !== undefined) await hashing;
    }
    if (header.length < STREAM_HEADER_LENGTH) {
      const need = STREAM_HEADER_LENGTH - header.length;
      header = Buffer.concat([header, chunk.subarray(0, need)]);
      if (header.length < STREAM_HEADER_LENGTH) continue;
      if (!header.subarray(0, 8).equals(STREAM_MAGIC)) {
        throw new Violation('CORRUPT_STREAM', 'does not start with the ATESPRSE magic');
      }
      const version = header.readUInt32LE(8);
      if (version !== STREAM_VERSION) {
        throw new Violation(
          'CORRUPT_STREAM',
          `has stream layout version ${version}, expected ${STREAM_VERSION}`,
        );
      }
      if (chunk.length > need) yield chunk.subarray(need);
      continue;
    }
    yield chunk;
  }
  if (header.length < STREAM_HEADER_LENGTH) {
    throw new Violation(
      'TRUNCATED',
      `ends after ${header.length} bytes, inside the ${STREAM_HEADER_LENGTH}-byte header`,
    );
  }
}

/** Pulls exact byte counts out of a stream of chunks. */
class PayloadReader {
  private pending: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    // Asked for more, the decompressor may reuse the buffer a leftover points into: keep a copy of it (a
    // few bytes of a number cut by a slice boundary).
    const rest = this.pending.length === 0 ? undefined : Buffer.from(this.pending);
    const next = await this.chunks.next();
    if (next.done === true) {
      this.done = true;
      if (rest !== undefined) this.pending = rest;
      return false;
    }
    this.pending = rest === undefined ? next.value : Buffer.concat([rest, next.value]);
    return true;
  }

  /** A little-endian int64, or a TRUNCATED violation naming `what`. */
  async int64(what: string): Promise<bigint> {
    while (this.pending.length < 8) {
      if (!(await this.fill())) throw new Violation('TRUNCATED', `payload ends before ${what}`);
    }
    const value = this.pending.readBigInt64LE(0);
    this.pending = this.pending.subarray(8);
    return value;
  }

  /** Exactly `length` bytes, as slices in order. */
  async *take(length: number): AsyncGenerator<Buffer> {
    let left = length;
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.fill())) {
        throw new Violation('TRUNCATED', `payload ends ${left} bytes before the end of an extent`);
      }
      const piece = this.pending.subarray(0, Math.min(left, this.pending.length));
      this.pending = this.pending.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }

  /** True when nothing follows (draining the source, so its trailing checks run). */
  async atEnd(): Promise<boolean> {
    while (this.pending.length === 0) {
      if (!(await this.fill())) return true;
    }
    return false;
  }
}

function safeNumber(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Violation('CORRUPT_STREAM', `has an out-of-range ${what} (${value})`);
  }
  return Number(value);
}

/** `threads` of {@link DecodeOptions}: an integer from 1 to 16. */
function checkDecodeThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1 || threads > 16) {
    throw new RangeError(`decode threads must be an integer from 1 to 16, got ${threads}`);
  }
  return threads;
}

/** The object's SHA-256 against the manifest's `compressedSha256`; CHECKSUM_MISMATCH when they differ. */
async function checkCompressedDigest(hash: Sha256Offload, entry: SnapshotFileEntry): Promise<void> {
  const digest = await hash.digest();
  if (digest !== entry.compressedSha256) {
    throw new Violation(
      'CHECKSUM_MISMATCH',
      `compressed stream has sha256 ${digest}, the manifest says ${entry.compressedSha256 ?? ''}`,
    );
  }
}

/** The extents found, which must be the manifest's; EXTENT_MISMATCH when they are not. */
function extentsAsListed(extents: ExtentList, entry: SnapshotFileEntry): Extent[] {
  const found = extents.toArray();
  if (!sameExtents(found, entry.extents)) {
    throw new Violation(
      'EXTENT_MISMATCH',
      `holds ${found.length} extents with ${dataBytes(found)} data bytes, which differ from the manifest's ` +
        `${entry.extents.length} extents with ${dataBytes(entry.extents)} bytes`,
    );
  }
  return found;
}

/** Decodes and verifies one stream against its entry, handing extents to `sink`. */
async function decodeInto(
  source: AsyncIterable<Uint8Array>,
  entry: SnapshotFileEntry,
  sink: ExtentSink,
  buffers?: OutputBuffers,
): Promise<DecodeResult> {
  // With the compressed object's digest in the manifest, that digest vouches for the decoded data (zstd
  // decodes deterministically) and the data itself need not be hashed: a third to a tenth of the bytes.
  // Those few bytes always go to the hash thread: copying them there costs far less than zstd's time on
  // this thread, which the hash would otherwise add to.
  const counter: CompressedCheck = {
    bytes: 0,
    crc: 0,
    hash:
      entry.compressedSha256 === undefined ? undefined : new Sha256Offload(entry.compressedSize, 'always'),
  };
  const iterator = decompressZstd(afterHeader(source, counter), buffers)[Symbol.asyncIterator]();
  const reader = new PayloadReader(iterator);
  const hash = counter.hash === undefined ? new Sha256Offload(dataBytes(entry.extents)) : undefined;
  try {
    const rawSize = safeNumber(await reader.int64('the file size'), 'file size');
    if (rawSize !== entry.rawSize) {
      throw new Violation(
        'SIZE_MISMATCH',
        `stream holds a file of ${rawSize} bytes, the manifest says ${entry.rawSize}`,
      );
    }
    const extents = new ExtentList();
    for (;;) {
      const offsetValue = await reader.int64('the next extent or the end marker');
      if (offsetValue === -1n) break;
      const offset = safeNumber(offsetValue, 'extent offset');
      const length = safeNumber(await reader.int64('an extent length'), 'extent length');
      if (offset < extents.end || length > rawSize - offset || offset > rawSize) {
        throw new Violation(
          'CORRUPT_STREAM',
          `has an extent [${offset}, +${length}) out of order or past the file size ${rawSize}`,
        );
      }
      let position = offset;
      for await (const piece of reader.take(length)) {
        const hashing = hash?.update(piece);
        if (hashing !== undefined) await hashing;
        const writing = sink.write(piece, position);
        if (writing !== undefined) await writing;
        position += piece.length;
      }
      extents.add(offset, length);
    }
    if (!(await reader.atEnd())) throw new Violation('CORRUPT_STREAM', 'has data after the end marker');
    await sink.end();
    if (counter.bytes !== entry.compressedSize) {
      throw new Violation(
        counter.bytes < entry.compressedSize ? 'TRUNCATED' : 'SIZE_MISMATCH',
        `is ${counter.bytes} compressed bytes, the manifest says ${entry.compressedSize}`,
      );
    }
    if (counter.hash !== undefined) {
      await checkCompressedDigest(counter.hash, entry);
    } else {
      const crc = crc32Hex(counter.crc);
      if (crc !== entry.compressedCrc32) {
        throw new Violation(
          'CHECKSUM_MISMATCH',
          `compressed stream has crc32 ${crc}, the manifest says ${entry.compressedCrc32}`,
        );
      }
    }
    const found = extentsAsListed(extents, entry);
    if (hash !== undefined) {
      const digest = await hash.digest();
      if (digest !== entry.sha256) {
        throw new Violation(
          'CHECKSUM_MISMATCH',
          `data has sha256 ${digest}, the manifest says ${entry.sha256}`,
        );
      }
    }
    return { name: entry.name, rawSize, dataBytes: dataBytes(found), compressedSize: counter.bytes };
  } catch (error) {
    hash?.cancel();
    counter.hash?.cancel();
    await sink.settle();
    await iterator.return?.(undefined);
    throw toIntegrityError(error, entry.name);
  }
}

/**
 * Decodes and verifies an object whose entry lists its frames, several frames at once on worker threads
 * (see frame-decode.ts), writing into `handle`. Checks the same as {@link decodeInto}: the compressed bytes'
 * count and SHA-256, the file size, the records' order and bounds, and the extents against the manifest.
 */
async function decodeFramesInto(
  source: AsyncIterable<Uint8Array>,
  entry: SnapshotFileEntry,
  handle: FileHandle,
  threads: number,
): Promise<DecodeResult> {
  const frames = entry.frames ?? [];
  const counter: CompressedCheck = {
    bytes: 0,
    crc: 0,
    hash: new Sha256Offload(entry.compressedSize, 'always'),
  };
  const results: FrameResult[] = [];
  const inFlight = new Set<Promise<void>>();
  // Frames fail in whatever order the threads finish; the first frame's failure is the one reported, as the
  // streaming decoder would. `failed` is thrown to unwind, then replaced by it once all frames have settled.
  let failure: { index: number; error: unknown } | undefined;
  const failed = new Error('a frame failed');
  const dispatch = (index: number, frame: SnapshotFrame, buffer: ArrayBuffer): void => {
    const job = decodeFrame(
      {
        fd: handle.fd,
        index,
        frame: buffer,
        length: frame.compressed,
        payload: frame.payload,
        first: index === 0,
        last: index === frames.length - 1,
        rawSize: entry.rawSize,
      },
      threads,
    ).then(
      (result) => {
        results[index] = result;
      },
      (error: unknown) => {
        if (failure === undefined || index < failure.index) failure = { index, error };
      },
    );
    const tracked = job.then(() => {
      inFlight.delete(tracked);
    });
    inFlight.add(tracked);
  };
  const payload = afterHeader(source, counter);
  try {
    let index = 0;
    // Each frame is gathered into a buffer of its own, whose memory moves to the worker with the job (and
    // comes back with the answer, for a later frame).
    let buffer = frameBuffer(frames[0]?.compressed ?? 0);
    let view = new Uint8Array(buffer);
    let filled = 0;
    for await (const chunk of payload) {
      let rest = chunk;
      while (rest.length > 0) {
        const frame = frames[index];
        if (frame === undefined) {
          throw new Violation(
            'SIZE_MISMATCH',
            `is more than the ${entry.compressedSize} compressed bytes the manifest says`,
          );
        }
        const take = Math.min(rest.length, frame.compressed - filled);
        view.set(rest.subarray(0, take), filled);
        filled += take;
        rest = rest.subarray(take);
        if (filled < frame.compressed) continue;
        dispatch(index, frame, buffer);
        index++;
        const next = frames[index];
        if (next !== undefined) {
          buffer = frameBuffer(next.compressed);
          view = new Uint8Array(buffer);
        }
        filled = 0;
        // One frame per thread in flight and one more waiting, so a thread that finishes finds work (two per
        // thread decoded no faster); each holds its compressed bytes, so this bounds the memory too.
        while (inFlight.size > threads && failure === undefined) await Promise.race(inFlight);
        if (failure !== undefined) throw failed;
      }
    }
    if (index < frames.length) {
      throw new Violation(
        'TRUNCATED',
        `is ${counter.bytes} compressed bytes, the manifest says ${entry.compressedSize}`,
      );
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failed;
    await checkCompressedDigest(counter.hash as Sha256Offload, entry);
    const extents = new ExtentList();
    for (const { records } of results) {
      for (const [offset, length] of records) {
        if (offset < extents.end) {
          throw new Violation('CORRUPT_STREAM', `has an extent [${offset}, +${length}) out of order`);
        }
        extents.add(offset, length);
      }
    }
    const found = extentsAsListed(extents, entry);
    return {
      name: entry.name,
      rawSize: entry.rawSize,
      dataBytes: dataBytes(found),
      compressedSize: counter.bytes,
    };
  } catch (error) {
    counter.hash?.cancel();
    // The file is closed after this: never under a worker's writes.
    await Promise.allSettled(inFlight);
    await payload.return(undefined);
    const reported = error === failed && failure !== undefined ? failure.error : error;
    throw toIntegrityError(reported, entry.name);
  }
}

function toIntegrityError(error: unknown, name: string): unknown {
  if (error instanceof Violation) return new SnapshotIntegrityError(error.code, name, error.message);
  if (error instanceof TruncatedFrameError) {
    return new SnapshotIntegrityError('TRUNCATED', name, 'compressed stream ends inside its zstd frame', {
      cause: error,
    });
  }
  if (error instanceof CorruptFrameError) {
    return new SnapshotIntegrityError('CORRUPT_STREAM', name, `zstd rejected the stream: ${error.message}`, {
      cause: error,
    });
  }
  return error; // the source's or the file system's own error
}

/** Releases a source that will not be read (an HTTP body holds a socket): destroys a Node stream. */
function release(source: AsyncIterable<Uint8Array>): void {
  const stream = source as unknown as { destroy?: unknown };
  if (typeof stream.destroy === 'function') stream.destroy();
}

/**
 * Restores one snapshot file from its compressed stream: decompresses, writes each data extent at its
 * offset, leaves holes unwritten, and sets the apparent size, so a sparse file stays sparse. Everything is
 * verified against `entry` (stream layout, zstd frame checksum, sizes, extents, and the sha256 of the
 * compressed object — or, for an entry without one, its crc32 and the sha256 of the data) while
 * the bytes go to a temporary file next to `destPath`; only a file that passed every check is renamed to
 * `destPath`. On failure the temporary file is removed and `destPath` is left as it was.
 *
 * The directory of `destPath` must exist. Memory use is bounded whatever the file size.
 *
 * @throws SnapshotIntegrityError naming the file: `TRUNCATED`, `CORRUPT_STREAM`, `SIZE_MISMATCH`,
 * `EXTENT_MISMATCH` or `CHECKSUM_MISMATCH`.
 * @throws ManifestValidationError when `entry` itself is malformed.
 */
export async function decodeToFile(
  source: AsyncIterable<Uint8Array>,
  entry: SnapshotFileEntry,
  destPath: string,
  options: DecodeOptions = {},
): Promise<DecodeResult> {
  validateFileEntry(entry);
  const threads = checkDecodeThreads(options.threads ?? DEFAULT_DECODE_THREADS);
  const temp = join(dirname(destPath), `.${basename(destPath)}.partial-${randomBytes(6).toString('hex')}`);
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx', 0o600);
  } catch (error) {
    release(source);
    throw error;
  }
  let published = false;
  try {
    const recycler = new OutputRecycler();
    const result =
      entry.compressedSha256 !== undefined && framesWorthDecodingApart(entry.frames, threads)
        ? await decodeFramesInto(source, entry, handle, threads)
        : await decodeInto(source, entry, new CoalescingWriter(handle, recycler), recycler);
    await handle.truncate(entry.rawSize);
    if (options.mode !== undefined) await handle.chmod(options.mode); // exact bits, whatever the umask
    if (options.fsync ?? true) await handle.sync();
    await handle.close();
    await rename(temp, destPath);
    published = true;
    return result;
  } finally {
    if (!published) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    }
  }
}

/**
 * Reads a compressed stream to its end and checks it against `entry` exactly as {@link decodeToFile} does,
 * without writing anything. For checking an object in storage before trusting it.
 *
 * @throws SnapshotIntegrityError as {@link decodeToFile}.
 */
export async function verifyStream(
  source: AsyncIterable<Uint8Array>,
  entry: SnapshotFileEntry,
): Promise<DecodeResult> {
  validateFileEntry(entry);
  const discard = (): Promise<void> => Promise.resolve();
  return decodeInto(source, entry, { write: () => undefined, end: discard, settle: discard });
}
