/** Activity of one actor as the router sees it. */
interface Activity {
  lastActive: number;
  /** Requests in flight, open websockets and streaming responses. */
  open: number;
  suspending: boolean;
  /** The actor's own idle timeout as ateapi resolved it (ms, 0 = off); undefined → the router's default. */
  timeoutMs: number | undefined;
}

/** An actor idle past its timeout. */
export interface IdleActor {
  readonly key: string;
  /** The timeout it was idle past (ms). */
  readonly timeoutMs: number;
}

/**
 * Tracks when each actor last had traffic and how many requests or websockets are open to it, so an
 * actor idle longer than its timeout can be suspended — never while a websocket or a streaming
 * response is open. Each actor's timeout is its own (from its `substrate.ate.dev/idle-suspend-after`
 * annotation or its template's, resolved by ateapi and learned when the router wakes it), else the
 * router's default; 0 means never.
 */
export class IdleTracker {
  private readonly actors = new Map<string, Activity>();

  /** `defaultMs`: the timeout of actors that have none of their own (0 = off). */
  constructor(
    private readonly defaultMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private entry(key: string): Activity {
    let activity = this.actors.get(key);
    if (!activity) {
      activity = { lastActive: this.now(), open: 0, suspending: false, timeoutMs: undefined };
      this.actors.set(key, activity);
    }
    return activity;
  }

  /** A request or websocket to the actor opened; call the returned function when it closes. */
  opened(key: string): () => void {
    const activity = this.entry(key);
    activity.open++;
    activity.lastActive = this.now();
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      activity.open--;
      activity.lastActive = this.now();
    };
  }

  /** Records the actor's own timeout (ms, 0 = off), or `undefined` for none (the default applies). */
  setActorTimeout(key: string, timeoutMs: number | undefined): void {
    this.entry(key).timeoutMs = timeoutMs;
  }

  /** The timeout that applies to the actor (ms, 0 = never suspended). */
  timeoutOf(key: string): number {
    return this.actors.get(key)?.timeoutMs ?? this.defaultMs;
  }

  /** Actors with nothing open and no traffic for longer than their timeout, not already being suspended. */
  idle(): IdleActor[] {
    const now = this.now();
    const found: IdleActor[] = [];
    for (const [key, a] of this.actors) {
      const timeoutMs = a.timeoutMs ?? this.defaultMs;
      if (timeoutMs > 0 && a.open === 0 && !a.suspending && a.lastActive <= now - timeoutMs)
        found.push({ key, timeoutMs });
    }
    return found;
  }

  markSuspending(key: string, suspending: boolean): void {
    const activity = this.actors.get(key);
    if (activity) activity.suspending = suspending;
  }

  /**
   * Forgets an actor that stopped running (suspended by the router or by anyone else), unless something
   * is still open to it. Its next request wakes it, and the wake tells its timeout again.
   */
  forget(key: string): void {
    const activity = this.actors.get(key);
    if (activity && activity.open === 0) this.actors.delete(key);
  }

  openCount(key: string): number {
    return this.actors.get(key)?.open ?? 0;
  }

  /** How many actors are tracked. */
  get size(): number {
    return this.actors.size;
  }
}
