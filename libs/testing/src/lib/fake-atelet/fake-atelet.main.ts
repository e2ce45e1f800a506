// The fake atelet process: serves `atelet.AteomHerder` over gRPC with a FakeHerder behind it, a JSON
// control endpoint on loopback HTTP for the test that started it, and optionally reports fake workers
// to ateapi's WorkerRegistry. Started by startFakeAtelet(); its only argument is the JSON config.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  type Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type ServiceError,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { FakeAteletStatus, FakeHerder } from './herder';
import {
  type AteletRequest,
  type FakeAteletProtos,
  type FakeReportWorkersResponse,
  loadFakeAteletProtos,
} from './proto';
import {
  FAKE_ATELET_READY_PREFIX,
  type FakeAteletFault,
  type FakeAteletMethod,
  type FakeAteletRegistration,
  type FakeAteletRegistrationStatus,
  type FakeAteletServerConfig,
} from './types';

const REPORT_DEADLINE_MS = 5_000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The generated-by-proto-loader client of `ateapi.WorkerRegistry`. */
interface WorkerRegistryClient extends Client {
  reportWorkers(
    request: unknown,
    metadata: Metadata,
    options: { deadline: Date },
    callback: (error: ServiceError | null, response: FakeReportWorkersResponse) => void,
  ): unknown;
}

/** Reports the fake workers to ateapi every period, and on demand. */
class Registrar {
  private timer: NodeJS.Timeout | undefined;
  private client: WorkerRegistryClient | undefined;
  private registration: FakeAteletRegistration | undefined;
  private paused: boolean;
  private reports = 0;
  private failures = 0;
  private lastError: string | undefined;
  private lastResponse: FakeReportWorkersResponse | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(
    registration: FakeAteletRegistration | undefined,
    private readonly endpoint: string,
    protos: FakeAteletProtos,
  ) {
    this.registration = registration;
    this.paused = registration?.paused ?? false;
    if (registration !== undefined) {
      this.client = new protos.WorkerRegistry(
        registration.ateapiAddress,
        credentials.createInsecure(),
      ) as unknown as WorkerRegistryClient;
    }
  }

  start(): void {
    if (this.registration !== undefined && !this.paused) this.schedule(0);
  }

  status(): FakeAteletRegistrationStatus {
    return {
      enabled: this.registration !== undefined,
      paused: this.paused,
      reports: this.reports,
      failures: this.failures,
      lastError: this.lastError,
      lastResponse: this.lastResponse,
      workers: this.registration?.workers ?? [],
    };
  }

  /** Changes the reported workers or pauses / resumes the loop. */
  update(change: { workers?: FakeAteletRegistration['workers']; paused?: boolean }): void {
    if (this.registration === undefined) throw new HttpError(409, 'registration is not configured');
    if (change.workers !== undefined) this.registration = { ...this.registration, workers: change.workers };
    if (change.paused !== undefined) this.paused = change.paused;
    this.cancel();
    if (!this.paused) this.schedule(this.periodMs());
  }

  /** Reports once now (after any report in flight) and returns the outcome. */
  async reportNow(): Promise<FakeAteletRegistrationStatus> {
    if (this.registration === undefined) throw new HttpError(409, 'registration is not configured');
    await this.inFlight;
    await this.report();
    return this.status();
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
    this.client?.close();
  }

  private cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.report().finally(() => {
        this.inFlight = undefined;
        if (!this.paused && this.timer === undefined) this.schedule(this.periodMs());
      });
    }, delayMs);
  }

  private periodMs(): number {
    const registration = this.registration;
    if (registration?.periodMs !== undefined) return registration.periodMs;
    const leaseSeconds = this.lastResponse?.leaseSeconds || registration?.leaseSeconds || 15;
    return Math.max(100, (leaseSeconds * 1_000) / 3);
  }

  private report(): Promise<void> {
    const { registration, client } = this;
    if (registration === undefined || client === undefined || this.stopped) return Promise.resolve();
    const request = {
      nodeName: registration.nodeName ?? 'fake-node',
      ateletEndpoint: this.endpoint,
      workers: [...registration.workers],
      leaseSeconds: registration.leaseSeconds ?? 15,
    };
    const metadata = new Metadata();
    if (registration.authorization !== undefined) metadata.set('authorization', registration.authorization);
    return new Promise((resolve) => {
      client.reportWorkers(
        request,
        metadata,
        { deadline: new Date(Date.now() + REPORT_DEADLINE_MS) },
        (error, response) => {
          if (error) {
            this.failures += 1;
            this.lastError = `${error.code} ${error.details || error.message}`;
          } else {
            this.reports += 1;
            this.lastError = undefined;
            this.lastResponse = response;
          }
          resolve();
        },
      );
    });
  }
}

function unaryHandler<Req, Res>(
  serve: (request: Req) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    serve(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => {
        const failure = error instanceof FakeAteletStatus ? error : new FakeAteletStatus(13, String(error));
        callback({ code: failure.code, details: failure.message });
      },
    );
  };
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(400, 'expected a JSON object');
  }
  return parsed as Record<string, unknown>;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as FakeAteletServerConfig;
  const herder = new FakeHerder(config);
  herder.addKnownWorkers((config.registration?.workers ?? []).map((worker) => worker.workerPodUid));
  const protos = loadFakeAteletProtos();

  const grpcServer = new Server();
  grpcServer.addService(protos.AteomHerder.service, {
    run: unaryHandler((request: AteletRequest) => herder.handle('run', request)),
    restore: unaryHandler((request: AteletRequest) => herder.handle('restore', request)),
    checkpoint: unaryHandler((request: AteletRequest) => herder.handle('checkpoint', request)),
  });
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync(
      `${config.host}:${config.port ?? 0}`,
      ServerCredentials.createInsecure(),
      (error, port) => (error ? reject(error) : resolve(port)),
    ),
  );
  const registrar = new Registrar(config.registration, `${config.host}:${grpcPort}`, protos);

  const routes: Record<string, (body: Record<string, unknown>) => unknown> = {
    'GET /calls': () => ({ calls: herder.calls() }),
    'GET /workers': () => ({ workers: herder.workerStates() }),
    'GET /violations': () => ({ violations: herder.violations() }),
    'GET /stats': () => ({ stats: herder.stats() }),
    'GET /registration': () => registrar.status(),
    'POST /faults': (body) => herder.addFault(body as FakeAteletFault),
    'DELETE /faults': () => herder.clearFaults(),
    'POST /latency': (body) =>
      herder.setLatency(
        [Number(body['minMs']), Number(body['maxMs'])],
        body['method'] as FakeAteletMethod | undefined,
      ),
    'POST /workers/clear': (body) => herder.clearWorkers(body['uid'] as string | undefined),
    'POST /reset': () => herder.reset(),
    'POST /registration': (body) => registrar.update(body),
    'POST /registration/report': () => registrar.reportNow(),
  };

  const control = createServer((request: IncomingMessage, response: ServerResponse) => {
    const route = routes[`${request.method ?? ''} ${request.url ?? ''}`];
    const answer = async (): Promise<unknown> => {
      if (route === undefined) throw new HttpError(404, `no route ${request.method} ${request.url}`);
      return (await route(await readJson(request))) ?? {};
    };
    answer().then(
      (body) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      },
      (error: unknown) => {
        response.writeHead(error instanceof HttpError ? error.status : 400, {
          'content-type': 'application/json',
        });
        response.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      },
    );
  });
  const controlPort = await new Promise<number>((resolve, reject) => {
    control.once('error', reject);
    control.listen(0, config.host, () => {
      const address = control.address();
      if (address === null || typeof address === 'string') reject(new Error('no control port'));
      else resolve(address.port);
    });
  });

  // Exit when the parent goes away, so a crashed test run never leaves a fake atelet behind.
  const parent = process.ppid;
  const orphanCheck = setInterval(() => {
    if (process.ppid !== parent) shutdown();
  }, 500);

  let stopping = false;
  function shutdown(): void {
    if (stopping) return;
    stopping = true;
    clearInterval(orphanCheck);
    registrar.stop();
    control.closeAllConnections();
    control.close();
    const force = setTimeout(() => grpcServer.forceShutdown(), 1_000);
    grpcServer.tryShutdown(() => {
      clearTimeout(force);
      process.exit(0);
    });
  }
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  registrar.start();
  process.stdout.write(`${FAKE_ATELET_READY_PREFIX}${JSON.stringify({ grpcPort, controlPort })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `fake atelet failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
