export { describeWithComponents } from './lib/components';
export { freePort, freePorts, tcpAccepts, unixSocketAccepts } from './lib/ports';
export { ManagedProcess, tempDir } from './lib/process';
export { ServiceProcess, type ServiceProcessOptions } from './lib/service-process';
export {
  redisCommand,
  startRedis,
  startRedisCluster,
  type RedisClusterInstance,
  type RedisInstance,
} from './lib/redis';
export { MissingComponentError, REPO_ROOT, TOOLS_DIR, findTool, isCI, requireTool } from './lib/tools';
export { ateomToolsEnv, contentAddressedRunsc } from './lib/ateom-tools';
export {
  REDIS_CLUSTER_SEEDS_ENV,
  REDIS_URL_ENV,
  jestRedis,
  startJestRedis,
  stopJestRedis,
} from './lib/jest-redis';
export { startEtcd, startKubeApiServer, type EtcdInstance, type KubeApiServerInstance } from './lib/kube';
export { KUBECONFIG_ENV, jestKubeconfig, startJestKube, stopJestKube } from './lib/jest-kube';
export { signedS3Request, startS3Server, type S3ServerInstance, type S3ServerOptions } from './lib/s3';
export { startFakeGcs, type FakeGcsInstance, type FakeGcsOptions } from './lib/gcs';
export {
  DEFAULT_TEST_BUCKET,
  GCS_ENDPOINT_ENV,
  S3_ACCESS_KEY_ID_ENV,
  S3_ENDPOINT_ENV,
  S3_REGION_ENV,
  S3_SECRET_ACCESS_KEY_ENV,
  STORAGE_BUCKET_ENV,
  jestStorage,
  startJestStorage,
  stopJestStorage,
  type JestStorage,
} from './lib/jest-storage';
export {
  FakeAtelet,
  FakeAteletControl,
  FakeAteletControlError,
  startFakeAtelet,
} from './lib/fake-atelet/fake-atelet';
export {
  FAKE_ATELET_METHODS,
  FAKE_SNAPSHOT_FILES,
  fakeWorkerRegistrations,
  type FakeAteletCall,
  type FakeAteletFault,
  type FakeAteletMethod,
  type FakeAteletOptions,
  type FakeAteletRegistration,
  type FakeAteletRegistrationStatus,
  type FakeAteletStats,
  type FakeAteletViolation,
  type FakeWorkerState,
} from './lib/fake-atelet/types';
export type { FakeReportWorkersResponse, FakeWorkerRegistration } from './lib/fake-atelet/proto';
