import { startRedis, startRedisCluster, type RedisClusterInstance, type RedisInstance } from './redis';

/** Environment variables through which a Jest global setup hands the Redis servers to the test files. */
export const REDIS_URL_ENV = 'SUBSTRATE_TEST_REDIS_URL';
export const REDIS_CLUSTER_SEEDS_ENV = 'SUBSTRATE_TEST_REDIS_CLUSTER_SEEDS';

interface Started {
  redis?: RedisInstance;
  cluster?: RedisClusterInstance;
}
const started: Started = {};

/**
 * For a Jest `globalSetup`: starts a standalone redis-server and a 3-master Redis Cluster on loopback and
 * publishes them in {@link REDIS_URL_ENV} and {@link REDIS_CLUSTER_SEEDS_ENV} (comma-separated `host:port`).
 */
export async function startJestRedis(): Promise<void> {
  started.redis = await startRedis();
  started.cluster = await startRedisCluster(3);
  process.env[REDIS_URL_ENV] = started.redis.url;
  process.env[REDIS_CLUSTER_SEEDS_ENV] = started.cluster.seeds.join(',');
}

/** For the matching Jest `globalTeardown`. */
export async function stopJestRedis(): Promise<void> {
  await Promise.all([started.redis?.stop(), started.cluster?.stop()]);
}

/** In a test file: the servers the global setup started (throws when it did not run). */
export function jestRedis(): { url: string; clusterSeeds: string[] } {
  const url = process.env[REDIS_URL_ENV];
  const seeds = process.env[REDIS_CLUSTER_SEEDS_ENV];
  if (!url || !seeds) throw new Error(`${REDIS_URL_ENV} is not set: is the Redis global setup configured?`);
  return { url, clusterSeeds: seeds.split(',') };
}
