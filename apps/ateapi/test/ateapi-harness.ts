import 'reflect-metadata';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import type { ActorTemplate, SandboxConfig, WorkerPool } from '@substrate/api';
import { ateapi, ATEAPI_SERVICES, nestGrpcPackageDefinition } from '@substrate/proto';
import { Settings } from '@substrate/service';
import { freePorts, jestRedis } from '@substrate/testing';
import { AppModule } from '../src/app.module';
import type { AteletPort } from '../src/atelet/atelet-port';
import { GrpcAteletClient } from '../src/atelet/grpc-atelet-client';
import { type MemoryCatalog } from '../src/catalog/catalog';
import { type AteapiConfig, loadAteapiConfig } from '../src/config';
import { ControlPlane } from '../src/control-plane';
import { configureHttp } from '../src/rest/openapi';
import type { SnapshotProbe } from '../src/workflows/actor-workflows';

export type RedisMode = 'standalone' | 'cluster';

/** The Redis servers the global setup started, as ateapi settings. */
export function redisSettings(mode: RedisMode): Record<string, string> {
  const { url, clusterSeeds } = jestRedis();
  return mode === 'standalone'
    ? { ATEAPI_REDIS_URL: url }
    : { ATEAPI_REDIS_CLUSTER_SEEDS: clusterSeeds.join(',') };
}

export interface RunningAteapi {
  readonly app: INestApplication;
  readonly plane: ControlPlane;
  readonly config: AteapiConfig;
  readonly grpcAddress: string;
  readonly httpUrl: string;
  readonly control: ateapi.ControlClient;
  readonly registry: ateapi.WorkerRegistryClient;
  close(): Promise<void>;
}

/** Starts ateapi in this process (HTTP + gRPC on free loopback ports) against the test Redis. */
export async function startAteapi(options: {
  redis: RedisMode;
  catalog: MemoryCatalog;
  env?: Record<string, string>;
  atelet?: AteletPort;
  snapshots?: SnapshotProbe;
}): Promise<RunningAteapi> {
  const [httpPort, grpcPort] = await freePorts(2);
  const config = loadAteapiConfig(
    new Settings({
      ATEAPI_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      ATEAPI_GRPC_LISTEN: `127.0.0.1:${grpcPort}`,
      ATEAPI_RECOVERY_INTERVAL_MS: '3600000',
      ...redisSettings(options.redis),
      ...options.env,
    }),
  );
  const app = await NestFactory.create(
    AppModule.forRoot(config, {
      atelet: options.atelet ?? new GrpcAteletClient(),
      catalog: options.catalog,
      snapshots: options.snapshots ?? { isCommitted: () => Promise.resolve(false) },
    }),
    { logger: false, abortOnError: false },
  );
  app.enableShutdownHooks();
  app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.GRPC,
      options: {
        url: `127.0.0.1:${grpcPort}`,
        package: 'ateapi',
        packageDefinition: nestGrpcPackageDefinition(ATEAPI_SERVICES),
      },
    },
    { inheritAppConfig: true },
  );
  configureHttp(app);
  await app.startAllMicroservices();
  await app.listen(httpPort ?? 0, '127.0.0.1');
  const grpcAddress = `127.0.0.1:${grpcPort}`;
  const control = new ateapi.ControlClient(grpcAddress, credentials.createInsecure());
  const registry = new ateapi.WorkerRegistryClient(grpcAddress, credentials.createInsecure());
  return {
    app,
    plane: app.get(ControlPlane),
    config,
    grpcAddress,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    control,
    registry,
    async close() {
      control.close();
      registry.close();
      await app.close();
    },
  };
}

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** Calls a unary method of a generated client: `await call(client, 'getActor', request)`. */
export function call<C extends object, M extends keyof C & string>(
  client: C,
  method: M,
  request: C[M] extends Unary<infer Req, unknown> ? Req : never,
  timeoutMs = 30_000,
  metadata = new Metadata(),
): Promise<C[M] extends Unary<never, infer Res> ? Res : never> {
  const fn = (client[method] as unknown as Unary<unknown, unknown>).bind(client);
  return new Promise((resolve, reject) => {
    fn(request, metadata, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) =>
      error ? reject(error) : resolve(response as never),
    );
  });
}

/** The gRPC error a call failed with (fails the test when it succeeded). */
export async function failure(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (error) {
    const { code, details } = error as ServiceError;
    return { code, details };
  }
  throw new Error('expected the call to fail');
}

// ---- catalog fixtures ------------------------------------------------------------------------

export function template(
  name: string,
  overrides: Partial<ActorTemplate['spec']> = {},
  namespace = 'default',
): ActorTemplate {
  return {
    apiVersion: 'ate.dev/v1alpha1',
    kind: 'ActorTemplate',
    metadata: { name, namespace },
    spec: {
      pauseImage: 'registry.local/pause@sha256:' + '0'.repeat(64),
      containers: [
        {
          name: 'app',
          image: 'registry.local/counter@sha256:' + '1'.repeat(64),
          readyz: { httpGet: { path: '/readyz', port: 8080 } },
        },
      ],
      snapshotsConfig: {
        location: 'file:///tmp/substrate-test-snapshots',
        onPause: 'Full',
        onCommit: 'Full',
      },
      sandboxClass: 'gvisor',
      ...overrides,
    },
  } as ActorTemplate;
}

export function pool(name: string, labels: Record<string, string> = {}, namespace = 'default'): WorkerPool {
  return {
    apiVersion: 'ate.dev/v1alpha1',
    kind: 'WorkerPool',
    metadata: { name, namespace, labels },
    spec: { replicas: 1, ateomImage: 'ateom:dev', sandboxClass: 'gvisor' },
  } as WorkerPool;
}

export function sandboxConfig(name = 'gvisor-default'): SandboxConfig {
  return {
    apiVersion: 'ate.dev/v1alpha1',
    kind: 'SandboxConfig',
    metadata: { name },
    spec: {
      sandboxClass: 'gvisor',
      default: true,
      assets: { amd64: { runsc: { url: 'file:///usr/bin/runsc', sha256: 'a'.repeat(64) } } },
    },
  } as SandboxConfig;
}
