/** Activity of one actor as the router sees it. */
interface Activity {
  lastActive: number;
  /** Requests in flight, open websockets and streaming responses. */
  open: number;
  suspending: boolean;
}

/**
 * Tracks when each actor last had traffic and how many requests or websockets are open to it, so an
 * actor idle longer than its timeout can be suspended — never while a websocket or a streaming
 * response is open.
 */
export class IdleTracker {
  private readonly actors = new Map<string, Activity>();

  constructor(private readonly now: () => number = Date.now) {}

  private entry(key: string): Activity {
    let activity = this.actors.get(key);
    if (!activity) {
      activity = { lastActive: this.now(), open: 0, suspending: false };
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

  /** Actors with nothing open and no traffic for `idleMs`, not already being suspended. */
  idleFor(idleMs: number): string[] {
    const cutoff = this.now() - idleMs;
    return [...this.actors.entries()]
      .filter(([, a]) => a.open === 0 && !a.suspending && a.lastActive <= cutoff)
      .map(([key]) => key);
  }

  markSuspending(key: string, suspending: boolean): void {
    const activity = this.actors.get(key);
    if (activity) activity.suspending = suspending;
  }

  /** Forgets an actor (after it was suspended). */
  forget(key: string): void {
    const activity = this.actors.get(key);
    if (activity && activity.open === 0) this.actors.delete(key);
  }

  openCount(key: string): number {
    return this.actors.get(key)?.open ?? 0;
  }
}
