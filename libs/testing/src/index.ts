export { describeWithComponents } from './lib/components';
export { freePort, freePorts } from './lib/ports';
export { ManagedProcess, tempDir } from './lib/process';
export {
  redisCommand,
  startRedis,
  startRedisCluster,
  type RedisClusterInstance,
  type RedisInstance,
} from './lib/redis';
export { MissingComponentError, REPO_ROOT, TOOLS_DIR, findTool, isCI, requireTool } from './lib/tools';
export {
  REDIS_CLUSTER_SEEDS_ENV,
  REDIS_URL_ENV,
  jestRedis,
  startJestRedis,
  stopJestRedis,
} from './lib/jest-redis';
export { startEtcd, startKubeApiServer, type EtcdInstance, type KubeApiServerInstance } from './lib/kube';
export { KUBECONFIG_ENV, jestKubeconfig, startJestKube, stopJestKube } from './lib/jest-kube';
