import 'reflect-metadata';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ateapi } from '@substrate/proto';
import { Settings } from '@substrate/service';
import {
  type FakeAtelet,
  freePorts,
  jestRedis,
  ServiceProcess,
  startFakeAtelet,
  tempDir,
} from '@substrate/testing';
import { WebSocketServer } from 'ws';
import { AppModule } from '../src/app.module';
import { loadAtenetConfig } from '../src/config';
import { RouterMetrics } from '../src/metrics/metrics';
import { RouterLifecycle } from '../src/router.lifecycle';

/** Templates `web` (no idle timeout) and `lazy` (idle-suspend-after 2s), a pool, a SandboxConfig. */
export const MANIFESTS = `apiVersion: ate.dev/v1alpha1
kind: ActorTemplate
metadata: { name: web, namespace: default }
spec:
  pauseImage: registry.local/pause@sha256:${'0'.repeat(64)}
  containers:
    - name: app
      image: registry.local/app@sha256:${'1'.repeat(64)}
  snapshotsConfig: { location: 'file:///tmp/substrate-atenet-test' }
---
apiVersion: ate.dev/v1alpha1
kind: ActorTemplate
metadata:
  name: lazy
  namespace: default
  annotations: { substrate.ate.dev/idle-suspend-after: 2s }
spec:
  pauseImage: registry.local/pause@sha256:${'0'.repeat(64)}
  containers:
    - name: app
      image: registry.local/app@sha256:${'1'.repeat(64)}
  snapshotsConfig: { location: 'file:///tmp/substrate-atenet-test' }
---
apiVersion: ate.dev/v1alpha1
kind: WorkerPool
metadata: { name: pool, namespace: default }
spec: { replicas: 4, ateomImage: 'ateom:dev' }
---
apiVersion: ate.dev/v1alpha1
kind: SandboxConfig
metadata: { name: gvisor-default }
spec:
  sandboxClass: gvisor
  default: true
  assets: { amd64: { runsc: { url: 'file:///usr/bin/runsc', sha256: '${'a'.repeat(64)}' } } }
`;

/** An HTTP server standing in for a worker's sandbox: echoes what it received, streams SSE, echoes websockets. */
export class TestWorker {
  requests = 0;
  /** Connections the router reset (RST) rather than closed. */
  resets = 0;
  private constructor(
    readonly index: number,
    readonly port: number,
    private readonly server: Server,
    private readonly wss: WebSocketServer,
  ) {}

  static async start(index: number, port: number): Promise<TestWorker> {
    const wss = new WebSocketServer({ noServer: true });
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo:${String(data)}`)));
    let worker: TestWorker | undefined = undefined;
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      if (worker) worker.requests++;
      if (request.url === '/sse') {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let n = 0;
        const timer = setInterval(() => {
          response.write(`data: tick ${++n}\n\n`);
          if (n === 10) {
            clearInterval(timer);
            response.end();
          }
        }, 1_000);
        response.on('close', () => clearInterval(timer));
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        // `/close`: the worker ends the connection itself after answering (it sends the first FIN).
        if (request.url === '/close') response.setHeader('connection', 'close');
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            worker: index,
            host: request.headers['host'],
            forwardedFor: request.headers['x-forwarded-for'],
            method: request.method,
            url: request.url,
            bodyBytes: Buffer.concat(chunks).length,
          }),
        );
      });
    });
    server.on('upgrade', (request, socket, head) =>
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)),
    );
    // Keeps idle connections far longer than the router does, so any that ends was ended by the router.
    server.keepAliveTimeout = 60_000;
    server.on('connection', (socket) =>
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (worker && error.code === 'ECONNRESET') worker.resets++;
      }),
    );
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    worker = new TestWorker(index, port, server, wss);
    return worker;
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export interface RouterWorld {
  readonly routerUrl: string;
  readonly control: ateapi.ControlClient;
  readonly atelet: FakeAtelet;
  readonly workers: TestWorker[];
  readonly app: INestApplication;
  readonly metrics: RouterMetrics;
  rpc<Res>(method: string, request: unknown): Promise<Res>;
  close(): Promise<void>;
}

/** Redis, a real ateapi process, a fake atelet registering `workerCount` test workers, and atenet in-process. */
export async function startRouterWorld(
  options: { workerCount?: number; env?: Record<string, string> } = {},
): Promise<RouterWorld> {
  const workerCount = options.workerCount ?? 3;
  const dir = tempDir('atenet');
  const manifests = join(dir.path, 'manifests');
  mkdirSync(manifests);
  writeFileSync(join(manifests, 'catalog.yaml'), MANIFESTS);
  const [grpcPort = 0, httpPort = 0, adminPort = 0, ...workerPorts] = await freePorts(3 + workerCount);
  const { url } = jestRedis();
  const ateapiService = await ServiceProcess.start({
    name: 'ateapi',
    entry: 'apps/ateapi/src/main.ts',
    env: {
      ATEAPI_REDIS_URL: url,
      ATEAPI_MANIFESTS_DIR: manifests,
      ATEAPI_DEBUG_CLEAR: 'true',
      ATEAPI_GRPC_LISTEN: `127.0.0.1:${grpcPort}`,
      ATEAPI_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      ATEAPI_CAPACITY_WAIT_MS: '1000',
    },
    healthUrl: `http://127.0.0.1:${httpPort}/healthz`,
  });
  const address = `127.0.0.1:${grpcPort}`;
  const control = new ateapi.ControlClient(address, credentials.createInsecure());
  const rpc = <Res>(method: string, request: unknown): Promise<Res> =>
    new Promise((resolve, reject) => {
      const fn = (control as unknown as Record<string, (...args: unknown[]) => unknown>)[method];
      fn?.call(
        control,
        request,
        new Metadata(),
        { deadline: new Date(Date.now() + 30_000) },
        (error: ServiceError | null, response: Res) => (error ? reject(error) : resolve(response)),
      );
    });
  await rpc('debugClear', {});
  const workers = await Promise.all(workerPorts.map((port, i) => TestWorker.start(i, port)));
  const atelet = await startFakeAtelet({
    registration: {
      ateapiAddress: address,
      nodeName: 'node-1',
      leaseSeconds: 60,
      workers: workers.map((w) => ({
        workerNamespace: 'default',
        workerPool: 'pool',
        workerPod: `pool-${w.index}`,
        ip: '127.0.0.1',
        workerPodUid: `uid-${w.index}`,
        httpPort: w.port,
      })),
    },
  });
  for (
    let i = 0;
    i < 100 && (await rpc<ateapi.ListWorkersResponse>('listWorkers', {})).workers.length < workerCount;
    i++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const config = loadAtenetConfig(
    new Settings({
      ATENET_HTTP_LISTEN: `127.0.0.1:${adminPort}`,
      ATENET_ROUTER_LISTEN: '127.0.0.1:0',
      ATENET_ATEAPI_ADDRESS: address,
      ATENET_REDIS_URL: url,
      ...options.env,
    }),
  );
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: false });
  await app.listen(adminPort, '127.0.0.1');
  const lifecycle = app.get(RouterLifecycle);
  return {
    routerUrl: `http://127.0.0.1:${lifecycle.port}`,
    control,
    atelet,
    workers,
    app,
    metrics: app.get(RouterMetrics),
    rpc,
    async close() {
      await app.close();
      control.close();
      await atelet.stop();
      await Promise.all(workers.map((w) => w.close()));
      await ateapiService.stop();
      dir.remove();
    },
  };
}

/** The Host of an actor. */
export const hostOf = (actorId: string, atespace = 'web'): string =>
  `${actorId}.${atespace}.actors.resources.substrate.ate.dev`;

/**
 * Starts ateapi alone on a catalog of `manifests` (YAML) and stops it again; rejects with its output
 * when it refuses to boot.
 */
export async function bootAteapi(manifests: string): Promise<void> {
  const dir = tempDir('atenet-boot');
  try {
    writeFileSync(join(dir.path, 'catalog.yaml'), manifests);
    const [grpcPort = 0, httpPort = 0] = await freePorts(2);
    const service = await ServiceProcess.start({
      name: 'ateapi',
      entry: 'apps/ateapi/src/main.ts',
      env: {
        ATEAPI_REDIS_URL: jestRedis().url,
        ATEAPI_MANIFESTS_DIR: dir.path,
        ATEAPI_GRPC_LISTEN: `127.0.0.1:${grpcPort}`,
        ATEAPI_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      },
      healthUrl: `http://127.0.0.1:${httpPort}/healthz`,
    });
    await service.stop();
  } finally {
    dir.remove();
  }
}
