import { Logger } from '@nestjs/common';
import { ACTOR_CHANGES_CHANNEL } from '@substrate/proto';
import { Cluster, Redis } from 'ioredis';
import type { Route } from './resumer';

/** Where the router hears about actors that stop running. */
export type ChangeFeed =
  | { readonly mode: 'none' }
  | { readonly mode: 'standalone'; readonly url: string }
  | { readonly mode: 'cluster'; readonly seeds: readonly string[] };

/**
 * Routes of RUNNING actors, so a request to a running actor costs no control-plane call (upstream calls
 * ResumeActor on every request). An entry is dropped when ateapi announces that the actor stopped
 * running (Redis pub/sub; ateapi announces before the worker can be reused), when a connection to the
 * worker fails, and — since pub/sub can lose messages while disconnected — every entry is dropped when
 * the subscription reconnects. Without a change feed the cache is off and every request asks ateapi.
 */
export class RouteCache {
  private readonly logger = new Logger(RouteCache.name);
  private readonly routes = new Map<string, Route>();
  private readonly listeners = new Set<(key: string, route: Route) => void>();
  private readonly stoppedListeners = new Set<(key: string) => void>();
  private subscriber: Redis | Cluster | undefined;
  private live = false;

  constructor(private readonly feed: ChangeFeed) {}

  /** Whether routes are cached (a change feed is configured and subscribed). */
  get enabled(): boolean {
    return this.live;
  }

  get size(): number {
    return this.routes.size;
  }

  async start(): Promise<void> {
    if (this.feed.mode === 'none') return;
    const subscriber =
      this.feed.mode === 'standalone'
        ? new Redis(this.feed.url, { lazyConnect: true, maxRetriesPerRequest: null })
        : new Cluster(
            this.feed.seeds.map((seed) => {
              const i = seed.lastIndexOf(':');
              return { host: seed.slice(0, i), port: Number(seed.slice(i + 1)) };
            }),
            { lazyConnect: true },
          );
    this.subscriber = subscriber;
    subscriber.on('message', (_channel: string, key: string) => {
      this.invalidate(key);
      for (const listener of this.stoppedListeners) listener(key);
    });
    subscriber.on('ready', () => {
      this.clear();
      this.live = true;
    });
    subscriber.on('close', () => {
      if (this.live)
        this.logger.warn('actor change feed lost: routing every request through ateapi until it is back');
      this.live = false;
      this.clear();
    });
    await subscriber.connect();
    await subscriber.subscribe(ACTOR_CHANGES_CHANNEL);
    this.live = true;
  }

  get(key: string): Route | undefined {
    return this.live ? this.routes.get(key) : undefined;
  }

  set(key: string, route: Route): void {
    if (this.live) this.routes.set(key, route);
  }

  /** Drops an actor's route and tells the listeners (which close connections to the worker). */
  invalidate(key: string): void {
    const route = this.routes.get(key);
    if (!route) return;
    this.routes.delete(key);
    for (const listener of this.listeners) listener(key, route);
  }

  /** Calls `listener(actorKey, route)` whenever a route is dropped. */
  onInvalidate(listener: (key: string, route: Route) => void): void {
    this.listeners.add(listener);
  }

  /** Calls `listener(actorKey)` whenever ateapi announces that an actor stopped running. */
  onActorStopped(listener: (key: string) => void): void {
    this.stoppedListeners.add(listener);
  }

  clear(): void {
    for (const key of [...this.routes.keys()]) this.invalidate(key);
  }

  async stop(): Promise<void> {
    this.live = false;
    this.subscriber?.disconnect();
  }
}
