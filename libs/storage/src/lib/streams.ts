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
 * Re-emits `source` through a new stream whose errors are passed through `map` first, so consumers of an
 * SDK's body stream see the library's typed errors. Destroying the returned stream destroys the source.
 */
export function mapStreamErrors(source: Readable, map: (err: unknown) => Error): Readable {
  const out = new PassThrough();
  source.once('error', (err) => out.destroy(map(err)));
  out.once('close', () => {
    if (!source.destroyed) source.destroy();
  });
  source.pipe(out);
  return out;
}

/** A pass-through that counts bytes and, when `expected` is set, fails on a different total. */
export function sizeGuard(key: string, expected: number | undefined): Transform & { readonly bytes: number } {
  let bytes = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
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

/** A Buffer body as a stream (for code paths that take streams only). */
export function bodyStream(body: Readable | Buffer): Readable {
  return Buffer.isBuffer(body) ? Readable.from([body]) : body;
}
