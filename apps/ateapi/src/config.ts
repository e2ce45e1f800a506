import { ConfigError, Settings } from '@substrate/service';
import { type AteletClientConfig, loadAteletClientConfig } from './atelet/grpc-atelet-client';
import { type AuthConfig, loadAuthConfig } from './auth';
import type { RedisTarget } from './store/redis-connection';

/** ateapi's settings, read once at boot; a bad value stops the process with the setting's name. */
export interface AteapiConfig {
  /** HTTP listen address: REST gateway, /openapi.json, /healthz (`ATEAPI_HTTP_LISTEN`, default 127.0.0.1:8480). */
  readonly http: { host: string; port: number };
  /** gRPC listen address of ateapi.Control and WorkerRegistry (`ATEAPI_GRPC_LISTEN`, default 127.0.0.1:8481). */
  readonly grpc: { host: string; port: number };
  /** The state store: `ATEAPI_REDIS_URL` (redis://host:port) or `ATEAPI_REDIS_CLUSTER_SEEDS` (host:port,…). */
  readonly redis: RedisTarget;
  /** Directory of ActorTemplate / WorkerPool / SandboxConfig YAML (`ATEAPI_MANIFESTS_DIR`); none → empty catalog. */
  readonly manifestsDir: string | undefined;
  /** `ATEAPI_DEBUG_CLEAR`: whether DebugClear may erase the store (default false). */
  readonly debugClearEnabled: boolean;
  /** Workflow timing: `ATEAPI_LOCK_TTL_MS` (30000) and `ATEAPI_WORKFLOW_DEADLINE_MS` (28000, below the TTL). */
  readonly lockTtlMs: number;
  readonly workflowDeadlineMs: number;
  /** `ATEAPI_CAPACITY_WAIT_MS` (5000): how long a resume waits for a free worker; 0 fails at once. */
  readonly capacityWaitMs: number;
  /** `ATEAPI_MAX_WAITERS_PER_POOL` (1000). */
  readonly maxWaitersPerPool: number;
  /** `ATEAPI_LEASE_SECONDS` (15): the worker lease granted when an atelet asks for none. */
  readonly leaseSeconds: number;
  /** `ATEAPI_RECOVERY_INTERVAL_MS` (2000), `ATEAPI_STUCK_AFTER_MS` (60000), `ATEAPI_CLAIM_GRACE_MS` (60000). */
  readonly recoveryIntervalMs: number;
  readonly stuckAfterMs: number;
  readonly claimGraceMs: number;
  /** Authentication of callers and TLS of both ports (`ATEAPI_AUTH_MODE`, `ATEAPI_TLS_*`, `ATEAPI_JWT_*`; docs/auth.md). */
  readonly auth: AuthConfig;
  /** How ateapi reaches atelets (`ATEAPI_ATELET_TLS_*`, `ATEAPI_ATELET_MAX_CONNECTIONS`). */
  readonly atelet: AteletClientConfig;
}

export function loadAteapiConfig(settings = new Settings()): AteapiConfig {
  const lockTtlMs = settings.int('ATEAPI_LOCK_TTL_MS', 30_000, { min: 1_000, max: 3_600_000 });
  const workflowDeadlineMs = settings.int('ATEAPI_WORKFLOW_DEADLINE_MS', Math.max(500, lockTtlMs - 2_000), {
    min: 500,
  });
  if (workflowDeadlineMs >= lockTtlMs) {
    throw new ConfigError(
      'ATEAPI_WORKFLOW_DEADLINE_MS',
      `must be below ATEAPI_LOCK_TTL_MS (${lockTtlMs}), got ${workflowDeadlineMs}`,
    );
  }
  return {
    http: settings.listenAddress('ATEAPI_HTTP_LISTEN', '127.0.0.1:8480'),
    grpc: settings.listenAddress('ATEAPI_GRPC_LISTEN', '127.0.0.1:8481'),
    redis: redisTarget(settings),
    manifestsDir: settings.string('ATEAPI_MANIFESTS_DIR', '') || undefined,
    debugClearEnabled: settings.bool('ATEAPI_DEBUG_CLEAR', false),
    lockTtlMs,
    workflowDeadlineMs,
    capacityWaitMs: settings.int('ATEAPI_CAPACITY_WAIT_MS', 5_000, { min: 0, max: workflowDeadlineMs }),
    maxWaitersPerPool: settings.int('ATEAPI_MAX_WAITERS_PER_POOL', 1_000, { min: 0 }),
    leaseSeconds: settings.int('ATEAPI_LEASE_SECONDS', 15, { min: 1, max: 3_600 }),
    recoveryIntervalMs: settings.int('ATEAPI_RECOVERY_INTERVAL_MS', 2_000, { min: 10 }),
    stuckAfterMs: settings.int('ATEAPI_STUCK_AFTER_MS', 60_000, { min: 0 }),
    claimGraceMs: settings.int('ATEAPI_CLAIM_GRACE_MS', 60_000, { min: 0 }),
    auth: loadAuthConfig(settings),
    atelet: loadAteletClientConfig(settings),
  };
}

function redisTarget(settings: Settings): RedisTarget {
  const url = settings.string('ATEAPI_REDIS_URL', '');
  const seeds = settings.string('ATEAPI_REDIS_CLUSTER_SEEDS', '');
  if (url && seeds) {
    throw new ConfigError(
      'ATEAPI_REDIS_URL',
      'set either ATEAPI_REDIS_URL or ATEAPI_REDIS_CLUSTER_SEEDS, not both',
    );
  }
  if (seeds) {
    const list = seeds
      .split(',')
      .map((seed) => seed.trim())
      .filter(Boolean);
    for (const seed of list) {
      if (!/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(seed)) {
        throw new ConfigError(
          'ATEAPI_REDIS_CLUSTER_SEEDS',
          `expected host:port[,host:port…], got ${JSON.stringify(seed)}`,
        );
      }
    }
    return { mode: 'cluster', seeds: list };
  }
  const target = url || 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\/[^\s]+$/.test(target)) {
    throw new ConfigError(
      'ATEAPI_REDIS_URL',
      `expected redis://host:port or rediss://…, got ${JSON.stringify(target)}`,
    );
  }
  return { mode: 'standalone', url: target };
}
