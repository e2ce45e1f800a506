import { isStorageError, type StorageErrorCode } from '@substrate/storage';

import { InvalidOptionError } from './errors';

/**
 * How a failed object-store call is retried: at most `maxAttempts` tries in all, waiting
 * `initialDelayMs × multiplier^(n-1)` (capped at `maxDelayMs`, with up to half of it taken off at random so
 * parallel transfers do not retry in step) before the n-th retry. Only errors whose `StorageError` code is in
 * `retryOn` are retried; anything else (a missing object, bad credentials, a checksum mismatch) fails at once.
 */
export interface RetryPolicy {
  /** Tries in all, the first included; 1 disables retries. Default 4. */
  readonly maxAttempts?: number;
  /** Wait before the first retry. Default 200 ms. */
  readonly initialDelayMs?: number;
  /** Upper bound of any wait. Default 5 000 ms. */
  readonly maxDelayMs?: number;
  /** Growth of the wait per retry. Default 2. */
  readonly multiplier?: number;
  /** Storage error codes worth another try. Default {@link TRANSIENT_STORAGE_CODES}. */
  readonly retryOn?: readonly StorageErrorCode[];
}

/**
 * Storage error codes retried by default: a deadline that passed and a service that could not be reached or
 * dropped the connection. Both adapters' SDKs already retried these a bounded number of times per request;
 * the mover's retry restarts the whole file, which also recovers from a connection cut mid-stream.
 */
export const TRANSIENT_STORAGE_CODES: readonly StorageErrorCode[] = ['TIMEOUT', 'UNAVAILABLE'];

/** The policy with every default filled in. */
export type ResolvedRetryPolicy = Required<RetryPolicy>;

/** The default {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = {
  maxAttempts: 4,
  initialDelayMs: 200,
  maxDelayMs: 5_000,
  multiplier: 2,
  retryOn: TRANSIENT_STORAGE_CODES,
};

/** Fills in the defaults and checks every value. @throws InvalidOptionError naming the bad setting. */
export function resolveRetryPolicy(policy: RetryPolicy = {}): ResolvedRetryPolicy {
  const resolved = { ...DEFAULT_RETRY_POLICY, ...policy };
  const check = (name: keyof RetryPolicy, ok: boolean, expected: string): void => {
    if (!ok) throw new InvalidOptionError(`retry.${name}`, `${String(resolved[name])} is not ${expected}`);
  };
  check('maxAttempts', Number.isInteger(resolved.maxAttempts) && resolved.maxAttempts >= 1, 'an integer ≥ 1');
  check(
    'initialDelayMs',
    Number.isFinite(resolved.initialDelayMs) && resolved.initialDelayMs >= 0,
    'a number ≥ 0',
  );
  check('maxDelayMs', Number.isFinite(resolved.maxDelayMs) && resolved.maxDelayMs >= 0, 'a number ≥ 0');
  check('multiplier', Number.isFinite(resolved.multiplier) && resolved.multiplier >= 1, 'a number ≥ 1');
  return resolved;
}

/** True when `error` is a storage error the policy retries. */
export function isRetryable(error: unknown, policy: ResolvedRetryPolicy): boolean {
  return isStorageError(error) && policy.retryOn.includes(error.code);
}

/** The wait before retry number `retry` (1 for the first retry). */
export function backoffDelay(policy: ResolvedRetryPolicy, retry: number, random = Math.random): number {
  const full = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** (retry - 1));
  return full / 2 + (random() * full) / 2;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `operation` until it succeeds, fails with an error the policy does not retry, runs out of attempts or
 * `signal` fires (then the signal's reason is thrown). `onRetry` is told about each failure that is retried.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  policy: ResolvedRetryPolicy,
  signal: AbortSignal,
  onRetry?: (error: unknown, attempt: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw signal.reason;
    try {
      return await operation(attempt);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (attempt >= policy.maxAttempts || !isRetryable(error, policy)) throw error;
      onRetry?.(error, attempt);
      await sleep(backoffDelay(policy, attempt), signal);
    }
  }
}
