import { DeadlineExceededError, InvalidOptionError, TransferAbortedError } from './errors';

/** Something in flight that can be torn down when the transfer stops (a stream being read or written). */
interface Destroyable {
  destroy(error?: Error): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Destroys `item` with `error`, so whoever consumes it fails. Its consumer may not be listening yet (an
 * upload that has not started reading): the extra listener keeps that from being an unhandled 'error' event.
 */
function tearDown(item: Destroyable, error: Error): void {
  item.on('error', () => undefined);
  item.destroy(error);
}

/**
 * One transfer's stop switch: fires on the caller's `AbortSignal`, on the deadline, or on the first failure
 * of one of its parallel parts. Its `signal.reason` is then the error the whole transfer throws, and every
 * stream registered with {@link track} is destroyed with it, so nothing keeps reading or writing.
 */
export class TransferControl {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly detach: () => void;
  private readonly live = new Set<Destroyable>();

  constructor(what: string, signal?: AbortSignal, deadlineMs?: number) {
    if (deadlineMs !== undefined && !(Number.isFinite(deadlineMs) && deadlineMs > 0)) {
      throw new InvalidOptionError('deadlineMs', `${deadlineMs} is not a positive number`);
    }
    const onAbort = (): void => this.stop(new TransferAbortedError(what, { cause: signal?.reason }));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    this.detach = () => signal?.removeEventListener('abort', onAbort);
    if (deadlineMs !== undefined && !this.controller.signal.aborted) {
      this.timer = setTimeout(() => this.stop(new DeadlineExceededError(what, deadlineMs)), deadlineMs);
    }
  }

  /** Fires when the transfer must stop; `reason` is the error to throw. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Stops the transfer with `reason` (the first call wins). */
  stop(reason: unknown): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(reason);
    const error = reason instanceof Error ? reason : new Error(String(reason));
    for (const item of this.live) tearDown(item, error);
    this.live.clear();
  }

  /** Throws the stop reason if the transfer was stopped. */
  throwIfStopped(): void {
    if (this.controller.signal.aborted) throw this.controller.signal.reason;
  }

  /** Destroys `item` if the transfer stops before `release` is called. */
  track(item: Destroyable): () => void {
    if (this.controller.signal.aborted) {
      const reason: unknown = this.controller.signal.reason;
      tearDown(item, reason instanceof Error ? reason : new Error(String(reason)));
      return () => undefined;
    }
    this.live.add(item);
    return () => this.live.delete(item);
  }

  /** Releases the timer and the caller's signal. */
  dispose(): void {
    clearTimeout(this.timer);
    this.detach();
    this.live.clear();
  }
}

/**
 * Runs `task` over `items` with at most `limit` in flight. The first failure stops `control` (which tears down
 * the tasks in flight) and no further task starts; once every started task has settled, the stop reason is
 * thrown. Results are in the order of `items`.
 */
export async function forEachLimited<T, R>(
  items: readonly T[],
  limit: number,
  control: TransferControl,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (!control.signal.aborted && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        control.stop(error);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  control.throwIfStopped();
  return results;
}

/** Checks a concurrency option. @throws InvalidOptionError */
export function checkConcurrency(value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError('concurrency', `${value} is not an integer ≥ 1`);
  }
  return value;
}
