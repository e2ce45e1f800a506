import { connect } from 'node:net';
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

/** One attempt got no complete answer within its deadline. */
class AttemptTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'AttemptTimeout';
  }
}

/** True once `received` holds a complete HTTP response (headers and body), judged by its framing. */
function complete(received: Buffer): { status: number } | undefined {
  const headerEnd = received.indexOf('\r\n\r\n');
  if (headerEnd < 0) return undefined;
  const head = received.subarray(0, headerEnd).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  const body = received.subarray(headerEnd + 4);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
  if (length !== undefined) return body.length >= Number(length) ? { status } : undefined;
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
    return body.includes('0\r\n\r\n') ? { status } : undefined;
  }
  // No framing: the answer ends when the server closes.
  return undefined;
}

/**
 * One GET over a raw TCP connection; resolves with the status code, rejects on connection errors or
 * after `timeoutMs`. Once the whole answer is read the probe resets the connection (RST): the sandbox's
 * endpoint is gone at once, whatever its side was doing. This runsc refuses to checkpoint a sandbox with
 * an endpoint that is open or closing ("endpoint cannot be saved in connected state"), and a restored
 * Node server sometimes closes a probe connection itself, leaving its endpoint in TIME_WAIT for a minute.
 * Checked (checkpoint right after restore, probe, request): Node's HTTP client (destroy after the
 * answer) failed about 1 checkpoint in 10, a FIN-first close that waits for the server's FIN about 1 in
 * 20 under load, the reset 0 in 70.
 */
function attempt(target: { host: string; port: number; path: string }, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // Half-open, so that when the server closes first its FIN is answered with a reset (below), not with a
    // FIN of ours that would leave the sandbox's side in TIME_WAIT.
    const socket = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    const timer = setTimeout(() => socket.destroy(new AttemptTimeout(timeoutMs)), timeoutMs);
    let received = Buffer.alloc(0);
    let answer: { status: number } | undefined;
    socket.once('connect', () => {
      socket.write(`GET ${target.path} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: keep-alive\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      if (answer !== undefined) return;
      received = Buffer.concat([received, chunk]);
      answer = complete(received);
      if (answer !== undefined) socket.resetAndDestroy();
    });
    socket.once('end', () => {
      // The server closed first: whatever it sent is the answer.
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received.toString('latin1'))?.[1];
      answer ??= status === undefined ? undefined : { status: Number(status) };
      socket.resetAndDestroy();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', (hadError) => {
      clearTimeout(timer);
      if (hadError) return;
      if (answer === undefined || answer.status === 0)
        reject(new Error('connection closed without an HTTP answer'));
      else resolve(answer.status);
    });
  });
}

/**
 * Polls `GET http://host:port/path` until it answers 2xx, then returns how long that took. Fails with
 * {@link NotReadyError} (the last attempt's error as `cause`) once the deadline passes.
 */
export async function waitUntilReady(probe: ReadinessProbe): Promise<Readiness> {
  const url = probeUrl(probe);
  const path = probe.path ?? '/readyz';
  const target = { host: probe.host, port: probe.port, path: path.startsWith('/') ? path : `/${path}` };
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
      const status = await attempt(target, remaining);
      if (status >= 200 && status < 300) return { elapsedMs: performance.now() - started, attempts };
      lastError = new Error(`HTTP ${status}`);
    } catch (error) {
      // An attempt cut short by the overall deadline says less than the answer before it.
      const truncated = remaining < attemptTimeoutMs && error instanceof AttemptTimeout;
      if (!truncated || lastError === undefined) lastError = error;
    }
    await sleep(intervalMs, undefined, { signal: probe.signal });
  }
  throw new NotReadyError(url, timeoutMs, attempts, { cause: lastError });
}
