import * as binding from 'zstd-napi/binding';

/**
 * Default zstd level. Level 1 (upstream's "SpeedFastest") compressed a mixed 64 MiB buffer (zeros, source
 * text, random bytes) about 1.4x faster than level 3 for a ~3% larger output; see docs/snapshots.md.
 */
export const DEFAULT_COMPRESSION_LEVEL = 1;

/**
 * Default zstd worker threads per compressor: compression runs on two threads of zstd's own while the calling
 * thread reads, finds holes, hashes and writes. Measured on the snapshot benchmark (2 cores): upload of a
 * 256 MiB mix 302 → 391 MB/s against the `zstd -1` CLI's 411–468 MB/s. The frame format is the same.
 */
export const DEFAULT_COMPRESSION_THREADS = 2;

/** Options of the zstd compressor. */
export interface CompressOptions {
  /** zstd level, from the library's minimum (negative, fastest) to 19; default {@link DEFAULT_COMPRESSION_LEVEL}. */
  readonly level?: number;
  /**
   * zstd worker threads (0 to 16): 0 compresses on the calling thread; default
   * {@link DEFAULT_COMPRESSION_THREADS}. The output differs between 0 and ≥ 1 but decodes the same.
   */
  readonly threads?: number;
}

/** A range check on the thread count, so a bad configuration fails with a clear message. */
export function checkCompressionThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 0 || threads > 16) {
    throw new RangeError(`zstd compression threads must be an integer from 0 to 16, got ${threads}`);
  }
  return threads;
}

/** A range check on the level, so a bad configuration fails with a clear message instead of a native error. */
export function checkCompressionLevel(level: number): number {
  const min = binding.minCLevel();
  if (!Number.isInteger(level) || level < min || level > 19 || level === 0) {
    throw new RangeError(
      `zstd compression level must be an integer in [${min}, -1] or [1, 19], got ${level}`,
    );
  }
  return level;
}

/**
 * Streaming zstd compressor over the native context. `push` and `end` return the compressed bytes ready so
 * far; the input buffer may be reused as soon as `push` returns (zstd copies what it keeps). One frame,
 * with the content checksum, per compressor.
 */
export class ZstdCompressor {
  private readonly cctx = new binding.CCtx();
  private readonly outSize = binding.cStreamOutSize();

  constructor(options: CompressOptions = {}) {
    const level = checkCompressionLevel(options.level ?? DEFAULT_COMPRESSION_LEVEL);
    this.cctx.setParameter(binding.CParameter.compressionLevel, level);
    this.cctx.setParameter(binding.CParameter.checksumFlag, 1);
    const threads = checkCompressionThreads(options.threads ?? DEFAULT_COMPRESSION_THREADS);
    // With workers, compressStream2 hands input to zstd's threads and returns what they have finished; it
    // blocks only when all of them are busy and their output has not been collected.
    if (threads > 0) this.cctx.setParameter(binding.CParameter.nbWorkers, threads);
  }

  /** Compresses `input`; the returned chunks are fresh buffers the caller owns. */
  push(input: Uint8Array): Buffer[] {
    return this.run(input, binding.EndDirective.continue);
  }

  /** Ends the frame and returns the remaining compressed bytes. */
  end(): Buffer[] {
    return this.run(new Uint8Array(0), binding.EndDirective.end);
  }

  private run(input: Uint8Array, directive: binding.EndDirective): Buffer[] {
    const chunks: Buffer[] = [];
    let rest = input;
    for (;;) {
      const out = Buffer.allocUnsafe(this.outSize);
      const [remaining, produced, consumed] = this.cctx.compressStream2(out, rest, directive);
      if (produced > 0) chunks.push(out.subarray(0, produced));
      rest = rest.subarray(consumed);
      const flushed = directive === binding.EndDirective.continue || remaining === 0;
      if (rest.length === 0 && flushed) return chunks;
    }
  }
}

/** Raised by {@link decompressZstd} when its input ends inside a frame. */
export class TruncatedFrameError extends Error {
  override readonly name = 'TruncatedFrameError';
}

/** Raised by {@link decompressZstd} when zstd rejects its input (bad frame, bad block, checksum mismatch). */
export class CorruptFrameError extends Error {
  override readonly name = 'CorruptFrameError';
}

/**
 * Compresses a byte stream into one zstd frame (with content checksum). Usable directly as a step of
 * `stream.pipeline`. Memory stays bounded by zstd's window plus one input chunk.
 */
export async function* compressZstd(
  source: AsyncIterable<Uint8Array>,
  options: CompressOptions = {},
): AsyncGenerator<Buffer> {
  const compressor = new ZstdCompressor(options);
  for await (const chunk of source) yield* compressor.push(chunk);
  yield* compressor.end();
}

/**
 * Where {@link decompressZstd} gets its output buffers. `retire` is called when the decompressor has filled a
 * buffer and moved on: from then on only the consumer may still hold slices of it, and the buffer may be
 * handed out by `take` again once the consumer is done with them (a recycler must know when that is).
 */
export interface OutputBuffers {
  take(size: number): Buffer;
  retire(buffer: Buffer): void;
}

/** A fresh buffer every time, never reused: for consumers that keep slices as long as they like. */
const FRESH_BUFFERS: OutputBuffers = { take: (size) => Buffer.allocUnsafe(size), retire: () => undefined };

/** Output slice of {@link decompressZstd}, in multiples of zstd's recommended output size. */
const OUTPUT_STEPS = 4;

/**
 * Decompresses a stream of zstd frames. Output is produced in slices of four times zstd's recommended size
 * (~512 KiB) and only as fast as the consumer pulls them, so a highly compressible input cannot balloon in
 * memory. Corrupt input and a bad frame checksum throw {@link CorruptFrameError}; input that ends inside a frame
 * throws {@link TruncatedFrameError}.
 */
export async function* decompressZstd(
  source: AsyncIterable<Uint8Array>,
  buffers: OutputBuffers = FRESH_BUFFERS,
): AsyncGenerator<Buffer> {
  const dctx = new binding.DCtx();
  // Four times zstd's recommended size (~512 KiB): a quarter of the steps, the same bounded memory.
  const outSize = OUTPUT_STEPS * binding.dStreamOutSize();
  // Output goes into the free end of `out`; another buffer is taken only when it is full. Slices already
  // yielded are never written again while the consumer may hold them (see OutputBuffers), and small input
  // chunks (network bodies) no longer cost a 512 KiB buffer each.
  let out = buffers.take(outSize);
  let used = 0;
  let inFrame = false;
  for await (const chunk of source) {
    let rest: Uint8Array = chunk;
    for (;;) {
      if (used === out.length) {
        buffers.retire(out);
        out = buffers.take(outSize);
        used = 0;
      }
      const space = out.length - used;
      let result: ReturnType<binding.DCtx['decompressStream']>;
      try {
        result = dctx.decompressStream(out.subarray(used), rest);
      } catch (error) {
        throw new CorruptFrameError(error instanceof Error ? error.message : String(error), { cause: error });
      }
      const [hint, produced, consumed] = result;
      rest = rest.subarray(consumed);
      // After a frame ends, a call with no input returns the size of the next frame's header: only a call
      // that did something tells where we are.
      if (consumed > 0 || produced > 0) inFrame = hint !== 0;
      if (produced > 0) {
        const slice = out.subarray(used, used + produced);
        used += produced;
        yield slice;
      }
      // Done with this chunk once it is consumed and the decoder holds nothing more (frame ended or the space
      // it was given was not filled).
      if (rest.length === 0 && (hint === 0 || produced < space)) break;
    }
  }
  if (inFrame) throw new TruncatedFrameError('input ended inside a zstd frame');
}
