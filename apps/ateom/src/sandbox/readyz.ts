import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotReadyError } from './errors';

export interface ReadinessProbe {
  /** Address the probe connects to: the sandbox address, reached from the worker's namespace. */
  readonly host: string;
  readonly port: number;
  /** HTTP path; `/readyz` by default, a leading `/` is added when missing. */
  readonly path?: string;
  /** Overall deadline (30 s by default, as upstream). */
  readonly timeoutMs?: number;
  /** Deadline of one attempt, connect to response headers (250 ms by default, as upstream). */
  readonly attemptTimeoutMs?: number;
  /** Pause between attempts (5 ms by default). */
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
}

export interface Readiness {
  /** Time from the start of probing to the first 2xx answer. */
  readonly elapsedMs: number;
  readonly attempts: number;
}

/** The URL a probe polls. */
export function probeUrl(probe: ReadinessProbe): string {
  if (!Number.isInteger(probe.port) || probe.port < 1 || probe.port > 65_535) {
    throw new RangeError(`readiness port must be 1-65535, got ${probe.port}`);
  }
  const path = probe.path ?? '/readyz';
  return `http://${probe.host}:${probe.port}${path.startsWith('/') ? path : `/${path}`}`;
}

/**
 * One GET; resolves with the status code, rejects on connection errors or after `timeoutMs`. The
 * request asks the server to keep the connection open and the client closes it once the answer is read:
 * the sandbox then never holds a half-closed or TIME_WAIT endpoint, which would make runsc refuse a
 * later checkpoint ("endpoint cannot be saved in connected state").
 */
function attempt(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', agent: false, timeout: timeoutMs, headers: { connection: 'keep-alive' } },
      (res) => {
        res.resume();
        res.once('error', reject);
        res.once('end', () => {
          req.destroy();
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}

/**
 * Polls `GET http://host:port/path` until it answers 2xx, then returns how long that took. Fails with
 * {@link NotReadyError} (the last attempt's error as `cause`) once the deadline passes.
 */
export async function waitUntilReady(probe: ReadinessProbe): Promise<Readiness> {
  const url = probeUrl(probe);
  const timeoutMs = probe.timeoutMs ?? 30_000;
  const attemptTimeoutMs = probe.attemptTimeoutMs ?? 250;
  const intervalMs = probe.intervalMs ?? 5;
  const started = performance.now();
  const deadline = started + timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  while (performance.now() < deadline) {
    probe.signal?.throwIfAborted();
    attempts += 1;
    const remaining = Math.max(1, Math.min(attemptTimeoutMs, deadline - performance.now()));
    try {
      const status = await attempt(url, remaining);
      if (status >= 200 && status < 300) return { elapsedMs: performance.now() - started, attempts };
      lastError = new Error(`HTTP ${status}`);
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs, undefined, { signal: probe.signal });
  }
  throw new NotReadyError(url, timeoutMs, attempts, { cause: lastError });
}
