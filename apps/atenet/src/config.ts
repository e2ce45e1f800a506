import { ConfigError, Settings } from '@substrate/service';
import type { ChangeFeed } from './routing/route-cache';

/** atenet's settings, read once at boot; a bad value stops the process with the setting's name. */
export interface AtenetConfig {
  /** Admin HTTP: /healthz and /metrics (`ATENET_HTTP_LISTEN`, default 127.0.0.1:8482). */
  readonly http: { host: string; port: number };
  /** The router: every request to an actor (`ATENET_ROUTER_LISTEN`, default 127.0.0.1:8080). */
  readonly router: { host: string; port: number };
  /** ateapi's gRPC address (`ATENET_ATEAPI_ADDRESS`, default 127.0.0.1:8481). */
  readonly ateapiAddress: string;
  /** Bearer token file for ateapi in jwt mode (`ATENET_ATEAPI_TOKEN_FILE`), re-read on every call. */
  readonly ateapiTokenFile: string | undefined;
  /** Redis with ateapi's actor-change feed (`ATENET_REDIS_URL` or `ATENET_REDIS_CLUSTER_SEEDS`); none → no route cache. */
  readonly changeFeed: ChangeFeed;
  /** `ATENET_WAKE_TIMEOUT_MS` (15000): how long a request waits for its actor to wake. */
  readonly wakeTimeoutMs: number;
  /** `ATENET_MAX_HELD_PER_ACTOR` (1000): requests held per waking actor; more get 429. */
  readonly maxHeldPerActor: number;
  /**
   * `ATENET_IDLE_SUSPEND_MS` (0 = off): suspend actors without traffic or open streams for this long —
   * the default for actors whose own or whose template's `substrate.ate.dev/idle-suspend-after`
   * annotation does not set a timeout.
   */
  readonly idleSuspendMs: number;
  /**
   * `ATENET_WORKER_IDLE_RESET_MS` (1000): a keep-alive connection to a worker unused this long is reset
   * (RST) by the router, before the actor's server closes it itself (Node's default after 5 s, gunicorn's
   * after 2 s): a connection the sandbox closed sits in TIME_WAIT there, and this runsc refuses to
   * checkpoint — and loses — a sandbox with one.
   */
  readonly workerIdleResetMs: number;
  /** DNS responder for the actor domain (`ATENET_DNS_LISTEN`, e.g. 127.0.0.1:5353; unset = off). */
  readonly dns: { host: string; port: number } | undefined;
  /** Address the DNS A records point at (`ATENET_DNS_ANSWER`, default the router's host). */
  readonly dnsAnswer: string;
}

export function loadAtenetConfig(settings = new Settings()): AtenetConfig {
  const router = settings.listenAddress('ATENET_ROUTER_LISTEN', '127.0.0.1:8080');
  const dnsListen = settings.string('ATENET_DNS_LISTEN', '');
  const dns = dnsListen ? settings.listenAddress('ATENET_DNS_LISTEN', dnsListen) : undefined;
  const dnsAnswer = settings.string('ATENET_DNS_ANSWER', router.host);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(dnsAnswer)) {
    throw new ConfigError('ATENET_DNS_ANSWER', `expected an IPv4 address, got ${JSON.stringify(dnsAnswer)}`);
  }
  const ateapiAddress = settings.string('ATENET_ATEAPI_ADDRESS', '127.0.0.1:8481');
  if (!/^[^\s:]+:\d{1,5}$/.test(ateapiAddress)) {
    throw new ConfigError(
      'ATENET_ATEAPI_ADDRESS',
      `expected host:port, got ${JSON.stringify(ateapiAddress)}`,
    );
  }
  return {
    http: settings.listenAddress('ATENET_HTTP_LISTEN', '127.0.0.1:8482'),
    router,
    ateapiAddress,
    ateapiTokenFile: settings.string('ATENET_ATEAPI_TOKEN_FILE', '') || undefined,
    changeFeed: changeFeed(settings),
    wakeTimeoutMs: settings.int('ATENET_WAKE_TIMEOUT_MS', 15_000, { min: 100, max: 600_000 }),
    maxHeldPerActor: settings.int('ATENET_MAX_HELD_PER_ACTOR', 1_000, { min: 1 }),
    idleSuspendMs: settings.int('ATENET_IDLE_SUSPEND_MS', 0, { min: 0 }),
    workerIdleResetMs: settings.int('ATENET_WORKER_IDLE_RESET_MS', 1_000, { min: 100, max: 600_000 }),
    dns,
    dnsAnswer,
  };
}

function changeFeed(settings: Settings): ChangeFeed {
  const url = settings.string('ATENET_REDIS_URL', '');
  const seeds = settings.string('ATENET_REDIS_CLUSTER_SEEDS', '');
  if (url && seeds)
    throw new ConfigError(
      'ATENET_REDIS_URL',
      'set either ATENET_REDIS_URL or ATENET_REDIS_CLUSTER_SEEDS, not both',
    );
  if (seeds)
    return {
      mode: 'cluster',
      seeds: seeds
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    };
  if (url) {
    if (!/^rediss?:\/\/\S+$/.test(url))
      throw new ConfigError('ATENET_REDIS_URL', `expected redis://host:port, got ${JSON.stringify(url)}`);
    return { mode: 'standalone', url };
  }
  return { mode: 'none' };
}
