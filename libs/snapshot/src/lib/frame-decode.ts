import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import { type IntegrityErrorCode } from './errors';
import { type SnapshotFrame } from './manifest';

/**
 * Decoding of a compressed object's zstd frames on a pool of worker threads, several frames at once. zstd
 * decodes one frame on one thread, as fast as the `zstd -d` CLI at best; an object written in frames of
 * whole extent records (see `encodeFile`'s `frameSize`) can use every core instead. The calling thread only
 * reads the object, cuts it at the frame boundaries the manifest lists and hands each frame over (its
 * buffer is transferred, not copied); a worker decodes the frame into a buffer of its own, checks the
 * records and writes their data into the destination file with positional writes on the shared descriptor.
 */

/** Worker threads used by default: one per core, at most four (a few frames in flight fill them). */
export const DEFAULT_DECODE_THREADS = Math.max(1, Math.min(4, availableParallelism()));

/** What one worker is asked to do. */
export interface FrameJob {
  /** The destination file's descriptor (shared by the threads of this process). */
  readonly fd: number;
  /** The frame's position in the object (for messages). */
  readonly index: number;
  /** Holds the frame's compressed bytes from its start (transferred there and back). */
  readonly frame: ArrayBuffer;
  /** The frame's length in `frame`. */
  readonly length: number;
  /** Payload bytes the frame must decode to. */
  readonly payload: number;
  /** The first frame starts with the file size, which must be `rawSize`. */
  readonly first: boolean;
  /** The last frame ends with the end marker. */
  readonly last: boolean;
  readonly rawSize: number;
}

/** What a worker found: the records it wrote, as `[offset, length]` pairs in payload order. */
export interface FrameResult {
  readonly records: readonly (readonly [number, number])[];
}

/**
 * The stream is wrong in a way a decoder detected itself (a worker refusing its frame, or the calling
 * thread): an integrity code and what was wrong, turned into a `SnapshotIntegrityError` naming the file.
 */
export class Violation extends Error {
  constructor(
    readonly code: IntegrityErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// Plain JavaScript, evaluated by the worker: no build step, works under every loader and test runner.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const binding = require(workerData.zstd);
// Decoded payload goes through this window, 1 MiB at a time: a worker never holds a whole frame's payload.
const out = Buffer.allocUnsafe(1048576);
// One context per worker, reset between frames: a fresh one would allocate (and fault in) its window again.
const dctx = new binding.DCtx();
const SIZE = 0, OFFSET = 1, LENGTH = 2, DATA = 3, END = 4;

function fail(code, message) {
  const error = new Error(message);
  error.violation = code;
  throw error;
}

function safe(value, what) {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) fail('CORRUPT_STREAM', 'has an out-of-range ' + what + ' (' + value + ')');
  return Number(value);
}

function decode(job) {
  const input = Buffer.from(job.frame, 0, job.length);
  dctx.reset(binding.ResetDirective.sessionOnly);
  // The payload parser, fed window after window: integers are gathered in 'number' (they may straddle two
  // windows), record data is written as it comes.
  const number = Buffer.alloc(8);
  let numberFill = 0;
  let state = job.first ? SIZE : OFFSET;
  let offset = 0;
  let position = 0;
  let remaining = 0;
  let previous = 0;
  const records = [];
  const parse = (bytes) => {
    let at = 0;
    while (at < bytes) {
      if (state === DATA) {
        const take = Math.min(remaining, bytes - at);
        for (let done = 0; done < take; ) done += writeSync(job.fd, out, at + done, take - done, position + done);
        position += take;
        remaining -= take;
        at += take;
        if (remaining === 0) state = OFFSET;
        continue;
      }
      if (state === END) fail('CORRUPT_STREAM', 'has data after the end marker');
      const take = Math.min(8 - numberFill, bytes - at);
      out.copy(number, numberFill, at, at + take);
      numberFill += take;
      at += take;
      if (numberFill < 8) continue;
      numberFill = 0;
      const value = number.readBigInt64LE(0);
      if (state === SIZE) {
        const rawSize = safe(value, 'file size');
        if (rawSize !== job.rawSize) fail('SIZE_MISMATCH', 'stream holds a file of ' + rawSize + ' bytes, the manifest says ' + job.rawSize);
        state = OFFSET;
      } else if (state === OFFSET) {
        if (value === -1n) {
          if (!job.last) fail('CORRUPT_STREAM', 'has the end marker before its last frame');
          state = END;
        } else {
          offset = safe(value, 'extent offset');
          state = LENGTH;
        }
      } else {
        const length = safe(value, 'extent length');
        if (offset < previous || offset > job.rawSize || length > job.rawSize - offset) {
          fail('CORRUPT_STREAM', 'has an extent [' + offset + ', +' + length + ') out of order or past the file size ' + job.rawSize);
        }
        records.push([offset, length]);
        previous = offset + length;
        position = offset;
        remaining = length;
        state = length > 0 ? DATA : OFFSET;
      }
    }
  };
  let consumed = 0;
  let produced = 0;
  for (;;) {
    let result;
    try {
      result = dctx.decompressStream(out, input.subarray(consumed));
    } catch (error) {
      fail('CORRUPT_STREAM', 'zstd rejected the stream: ' + (error && error.message));
    }
    const [hint, bytes, used] = result;
    consumed += used;
    produced += bytes;
    if (produced > job.payload) fail('CORRUPT_STREAM', 'has a frame that decodes to more than its ' + job.payload + ' payload bytes');
    parse(bytes);
    if (hint === 0) break;
    if (used === 0 && bytes === 0) {
      fail('CORRUPT_STREAM', 'has frame ' + job.index + ' end inside its zstd data after the ' + input.length + ' bytes the manifest gives it');
    }
  }
  if (consumed !== input.length) fail('CORRUPT_STREAM', 'has ' + (input.length - consumed) + ' bytes after the zstd data of frame ' + job.index);
  if (produced !== job.payload) fail('CORRUPT_STREAM', 'has a frame of ' + produced + ' payload bytes, the manifest says ' + job.payload);
  if (state === END) return { records };
  if (job.last && state === OFFSET && numberFill === 0) fail('TRUNCATED', 'payload ends before the next extent or the end marker');
  if (state !== OFFSET || numberFill !== 0) fail('CORRUPT_STREAM', 'has frame ' + job.index + ' end inside a record');
  return { records };
}

// Every answer hands the frame's buffer back, for the next frame.
parentPort.on('message', (job) => {
  let answer;
  try {
    answer = { ok: decode(job) };
  } catch (error) {
    answer =
      error && error.violation
        ? { violation: { code: error.violation, message: error.message } }
        : { failed: { message: String(error && error.message), code: error && error.code } };
  }
  answer.frame = job.frame;
  parentPort.postMessage(answer, [job.frame]);
});
`;

type Answer = { frame: ArrayBuffer } & (
  | { ok: FrameResult }
  | { violation: { code: IntegrityErrorCode; message: string } }
  | { failed: { message: string; code?: string } }
);

/**
 * Frame buffers back from the workers, for the next frames: fresh 16 MiB allocations each cost a page
 * fault per 4 KiB as they are filled and push V8 into major garbage collections (external memory).
 */
const spareBuffers: ArrayBuffer[] = [];
/** Spare buffers kept at most (a decode has a frame per thread and one more in flight); dropped when idle. */
const SPARE_BUFFERS = 6;

/**
 * A buffer of at least `length` bytes for a frame: a spare one when one is large enough, else a new one
 * (rounded up to 1 MiB, so frames of similar sizes share buffers).
 */
export function frameBuffer(length: number): ArrayBuffer {
  const at = spareBuffers.findIndex((buffer) => buffer.byteLength >= length);
  if (at >= 0) return spareBuffers.splice(at, 1)[0] as ArrayBuffer;
  return new ArrayBuffer(Math.ceil(Math.max(length, 1) / 2 ** 20) * 2 ** 20);
}

function spare(buffer: ArrayBuffer): void {
  if (buffer.byteLength > 0 && spareBuffers.length < SPARE_BUFFERS) spareBuffers.push(buffer);
}

interface PoolWorker {
  readonly worker: Worker;
  /** The job it is doing, settled by its answer or its death. */
  current?: { resolve: (result: FrameResult) => void; reject: (error: unknown) => void };
  /** While idle: ends the worker once it has been idle for {@link framePool}.idleMs. */
  idleTimer?: NodeJS.Timeout;
  /** Counted out of `live` already (ended for idleness), so a new worker may start while it exits. */
  retired?: boolean;
  /** Whether it ever answered: a worker that dies before its first answer cannot run here at all. */
  answered?: boolean;
}

const idle: PoolWorker[] = [];
const waiting: { job: FrameJob; resolve: (r: FrameResult) => void; reject: (e: unknown) => void }[] = [];
let live = 0;
let unavailable = false;

/**
 * The pool's settings and state. Each worker is a V8 isolate of its own plus a zstd context and a 1 MiB
 * window, so idle workers end after `idleMs` and a daemon that restores now and then does not hold them.
 */
export const framePool = {
  idleMs: 10_000,
  /** Workers alive, busy or idle. */
  get alive(): number {
    return live;
  },
  /** Frame buffers kept for the next frames. */
  get spareBuffers(): number {
    return spareBuffers.length;
  },
};

function spawn(): PoolWorker | undefined {
  if (unavailable) return undefined;
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { zstd: require.resolve('zstd-napi/binding') },
    });
  } catch {
    unavailable = true; // e.g. a sandbox without threads: decode on the calling thread from now on
    return undefined;
  }
  worker.unref();
  live++;
  const entry: PoolWorker = { worker };
  worker.on('message', (answer: Answer) => {
    entry.answered = true;
    spare(answer.frame);
    const current = entry.current;
    entry.current = undefined;
    worker.unref();
    if (current !== undefined) {
      if ('ok' in answer) current.resolve(answer.ok);
      else if ('violation' in answer) {
        current.reject(new Violation(answer.violation.code, answer.violation.message));
      } else {
        // A failed write: the file system's error, as the calling thread's writes would throw it.
        const error = new Error(answer.failed.message) as Error & { code?: string };
        if (answer.failed.code !== undefined) error.code = answer.failed.code;
        current.reject(error);
      }
    }
    next(entry);
  });
  const died = (error: unknown): void => {
    const current = entry.current;
    entry.current = undefined;
    const at = idle.indexOf(entry);
    if (at >= 0) idle.splice(at, 1);
    current?.reject(
      error instanceof Error ? error : new Error(`frame decode worker exited (${String(error)})`),
    );
  };
  worker.on('error', died);
  worker.on('exit', (code) => {
    if (entry.retired !== true) live--;
    // A worker that could not even decode one frame (its zstd binding failed to load, say): decode on
    // the calling thread from now on.
    if (entry.answered !== true && entry.retired !== true) unavailable = true;
    died(new Error(`frame decode worker exited with code ${code}`));
    if (entry.retired === true) return;
    // Jobs waiting for a worker must not wait for this one: start another for them, or fail them all.
    const queued = waiting.shift();
    if (queued === undefined) return;
    const replacement = spawn();
    if (replacement !== undefined) {
      run(replacement, queued.job, queued.resolve, queued.reject);
    } else if (live === 0) {
      for (const job of [queued, ...waiting.splice(0)]) {
        job.reject(new Error('no frame decode worker could be started'));
      }
    } else {
      waiting.unshift(queued); // a live worker takes it when it is done
    }
  });
  return entry;
}

function run(
  entry: PoolWorker,
  job: FrameJob,
  resolve: (r: FrameResult) => void,
  reject: (e: unknown) => void,
): void {
  clearTimeout(entry.idleTimer);
  entry.current = { resolve, reject };
  entry.worker.ref(); // the job keeps the process alive until its answer arrives
  entry.worker.postMessage(job, [job.frame]);
}

function next(entry: PoolWorker): void {
  const queued = waiting.shift();
  if (queued !== undefined) {
    run(entry, queued.job, queued.resolve, queued.reject);
    return;
  }
  idle.push(entry);
  entry.idleTimer = setTimeout(() => {
    const at = idle.indexOf(entry);
    if (at < 0) return;
    idle.splice(at, 1);
    entry.retired = true;
    live--;
    void entry.worker.terminate();
    if (live === 0) spareBuffers.length = 0; // idle altogether: let the frame buffers go too
  }, framePool.idleMs);
  entry.idleTimer.unref();
}

/**
 * Decodes one frame on a pool worker (at most `threads` workers exist; jobs beyond them wait in order).
 * Rejects with {@link Violation} for a bad frame, with the file system's error for a failed write, and
 * with a plain error when no worker could be started (from then on {@link framesWorthDecodingApart} is
 * false, and callers decode on their own thread).
 */
export function decodeFrame(job: FrameJob, threads: number): Promise<FrameResult> {
  return new Promise((resolve, reject) => {
    const entry = idle.pop() ?? (live < threads ? spawn() : undefined);
    if (entry !== undefined) run(entry, job, resolve, reject);
    else if (live > 0) waiting.push({ job, resolve, reject });
    else reject(new Error('no frame decode worker could be started'));
  });
}

/**
 * Largest frame (compressed or decoded) decoded on a worker: its compressed bytes are held whole, so an
 * object written with larger frames streams through the calling thread instead. A frame overshoots its
 * `frameSize` by up to one record (a read chunk, 1 MiB by default), so a `frameSize` of up to 64 MiB stays
 * below it.
 */
export const MAX_WORKER_FRAME_BYTES = 72 * 1024 * 1024;

/**
 * True when the frames of an entry are decoded on workers: more than one, none larger than
 * {@link MAX_WORKER_FRAME_BYTES}, more than one thread wanted, and threads available.
 */
export function framesWorthDecodingApart(
  frames: readonly SnapshotFrame[] | undefined,
  threads: number,
): boolean {
  return (
    frames !== undefined &&
    frames.length > 1 &&
    threads > 1 &&
    !unavailable &&
    frames.every((f) => f.compressed <= MAX_WORKER_FRAME_BYTES && f.payload <= MAX_WORKER_FRAME_BYTES)
  );
}
