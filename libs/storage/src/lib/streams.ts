import { PassThrough, Readable, Transform } from 'node:stream';
import { InvalidRangeError, SizeMismatchError } from './errors';
import type { ByteRange } from './object-store';

/** Checks a requested range; throws {@link InvalidRangeError} for negative, reversed or non-integer bounds. */
export function checkRange(key: string, range: ByteRange | undefined): void {
  if (range === undefined) return;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new InvalidRangeError(key, range);
  }
}

/**
 * Re-emits an SDK's body stream through a new stream whose errors are passed through `map` first, so
 * consumers see the library's typed errors. Destroying the returned stream destroys the source.
 *
 * With `idle`, the download fails with `idle.error()` when the source delivers nothing for `idle.ms` while
 * the consumer is ready for more (a slow consumer that exerts backpressure never trips it).
 */
export function mapStreamErrors(
  source: Readable,
  map: (err: unknown) => Error,
  idle?: { ms: number; error: () => Error },
): Readable {
  const out = new PassThrough();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (idle === undefined || out.destroyed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (out.writableNeedDrain)
        arm(); // the consumer is behind: not the source's fault
      else out.destroy(idle.error());
    }, idle.ms);
    timer.unref();
  };
  source.on('data', arm);
  source.once('end', () => clearTimeout(timer));
  source.once('error', (err) => out.destroy(map(err)));
  out.once('close', () => {
    clearTimeout(timer);
    if (!source.destroyed) source.destroy();
  });
  source.pipe(out);
  arm();
  return out;
}

/**
 * A pass-through that counts bytes and, when `expected` is set, fails on a different total. `onChunk` is
 * called for every chunk that passes (upload watchdogs use it as a sign of progress).
 */
export function sizeGuard(
  key: string,
  expected: number | undefined,
  onChunk?: () => void,
): Transform & { readonly bytes: number } {
  let bytes = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      onChunk?.();
      if (expected !== undefined && bytes > expected) done(new SizeMismatchError(key, expected, bytes));
      else done(null, chunk);
    },
    flush(done) {
      done(expected !== undefined && bytes !== expected ? new SizeMismatchError(key, expected, bytes) : null);
    },
  });
  return Object.defineProperty(guard, 'bytes', { get: () => bytes }) as Transform & {
    readonly bytes: number;
  };
}

/**
 * An idle deadline: calls `onIdle` once `ms` pass without a {@link IdleTimer.touch}. `stop()` disarms it.
 */
export interface IdleTimer {
  touch(): void;
  stop(): void;
}

export function idleTimer(ms: number, onIdle: () => void): IdleTimer {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const touch = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(onIdle, ms);
    timer.unref();
  };
  touch();
  return {
    touch,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** A Buffer body as a stream (for code paths that take streams only). */
export function bodyStream(body: Readable | Buffer): Readable {
  return Buffer.isBuffer(body) ? Readable.from([body]) : body;
}
