import { status } from '@grpc/grpc-js';
import { ateapi } from '@substrate/proto';
import type { ActorAddress } from './actor-address';
import { actorKeyOf } from './actor-address';
import { ControlCallError, type ControlPort } from './ateapi-client';

/** Where a running actor's traffic goes. */
export interface Route {
  readonly host: string;
  readonly port: number;
}

/** A woken actor: its route, and its own idle auto-suspend timeout as ateapi resolved it. */
export interface Woken {
  readonly route: Route;
  /** ms, 0 = off; undefined when neither the actor nor its template sets one (the router's default applies). */
  readonly idleSuspendAfterMs: number | undefined;
}

export interface ResumerOptions {
  /** Budget of one shared resume (all retries included); upstream: 15 s. */
  readonly wakeTimeoutMs: number;
  /** At most this many requests wait per actor while it wakes; more get 429. */
  readonly maxHeldPerActor: number;
}

/** Too many requests are already waiting for this actor. */
export class TooManyHeldError extends Error {
  override readonly name = 'TooManyHeldError';
}

/** Retry policy on ABORTED (another workflow holds the actor's lock), upstream's: 7 steps, 200 ms × 1.5, jitter 0.2. */
const RETRY = { steps: 7, firstMs: 200, factor: 1.5, jitter: 0.2 } as const;

/** The route of a RUNNING actor, or undefined when it has none (not running, or no worker address). */
export function routeOf(actor: ateapi.Actor): Route | undefined {
  if (actor.status !== ateapi.Actor_Status.STATUS_RUNNING || !actor.ateomPodIp) return undefined;
  return { host: actor.ateomPodIp, port: actor.ateomPodPort || 80 };
}

/**
 * Wakes actors: one ResumeActor per actor at a time, shared by every request that waits for it
 * (singleflight), run detached from any single request so a client that leaves does not cancel it for
 * the others, retried on ABORTED within the wake budget. Requests wait in a bounded queue per actor.
 */
export class Resumer {
  private readonly inFlight = new Map<string, { promise: Promise<Woken>; waiters: number }>();

  constructor(
    private readonly control: ControlPort,
    private readonly options: ResumerOptions,
    private readonly onResumeCall: (outcome: string) => void = () => undefined,
  ) {}

  /** How many requests wait for `address` right now. */
  waiting(address: ActorAddress): number {
    return this.inFlight.get(actorKeyOf(address))?.waiters ?? 0;
  }

  /** Resolves with the actor's route (and idle timeout) once it runs; rejects with the control plane's error. */
  async wake(address: ActorAddress): Promise<Woken> {
    const key = actorKeyOf(address);
    let entry = this.inFlight.get(key);
    if (!entry) {
      const promise = this.resumeWithRetry(address).finally(() => this.inFlight.delete(key));
      entry = { promise, waiters: 0 };
      this.inFlight.set(key, entry);
    } else if (entry.waiters >= this.options.maxHeldPerActor) {
      throw new TooManyHeldError(`too many requests are waiting for actor "${address.actorId}"`);
    }
    entry.waiters++;
    try {
      return await entry.promise;
    } finally {
      entry.waiters--;
    }
  }

  private async resumeWithRetry(address: ActorAddress): Promise<Woken> {
    const deadline = Date.now() + this.options.wakeTimeoutMs;
    let delay: number = RETRY.firstMs;
    for (let step = 1; ; step++) {
      try {
        const actor = await this.control.resume(address.atespace, address.actorId, new Date(deadline));
        this.onResumeCall('OK');
        const route = routeOf(actor);
        if (!route) throw new ControlCallError(status.INTERNAL, `actor "${address.actorId}" routing failed`);
        return { route, idleSuspendAfterMs: actor.idleSuspendAfterMs };
      } catch (error) {
        const code = error instanceof ControlCallError ? error.grpcCode : status.INTERNAL;
        this.onResumeCall(status[code] ?? String(code));
        const wait = delay * (1 + Math.random() * RETRY.jitter);
        if (code !== status.ABORTED || step >= RETRY.steps || Date.now() + wait >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
        delay *= RETRY.factor;
      }
    }
  }
}
