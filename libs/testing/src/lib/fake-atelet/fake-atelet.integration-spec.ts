// The fake atelet as a separate process on loopback: the real generated gRPC clients call it, the test
// controls it over its HTTP endpoint, and a WorkerRegistry server in the test receives its reports.
import {
  type Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type ServiceError,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { type FakeAtelet, startFakeAtelet } from './fake-atelet';
import {
  type AteletRequest,
  CHECKPOINT_TYPE_EXTERNAL,
  type FakeWorkerRegistration,
  loadFakeAteletProtos,
  SNAPSHOT_SCOPE_FULL,
} from './proto';
import { FAKE_SNAPSHOT_FILES, fakeWorkerRegistrations } from './types';

// The generated @substrate/proto clients cannot be used here (libs/proto's tests use this library);
// proto-loader clients of the same .proto files speak the same wire format.
const protos = loadFakeAteletProtos();

interface ReportWorkersRequest {
  nodeName: string;
  ateletEndpoint: string;
  workers: FakeWorkerRegistration[];
  leaseSeconds: number;
}

type Callback<Res> = (error: ServiceError | null, response: Res) => void;
type UnaryMethod<Res> = (
  request: AteletRequest,
  metadata: Metadata,
  options: { deadline: Date },
  callback: Callback<Res>,
) => unknown;

interface AteomHerderClient extends Client {
  run: UnaryMethod<object>;
  restore: UnaryMethod<object>;
  checkpoint: UnaryMethod<{ snapshotFiles: string[] }>;
}

function herderClient(endpoint: string, options: Record<string, number> = {}): AteomHerderClient {
  return new protos.AteomHerder(
    endpoint,
    credentials.createInsecure(),
    options,
  ) as unknown as AteomHerderClient;
}

function runRequest(uid: string, actorId: string, atespace = 'demo'): AteletRequest {
  return {
    targetAteomUid: uid,
    actorTemplateNamespace: 'default',
    actorTemplateName: 'counter',
    actorId,
    actorAtespace: atespace,
    spec: { containers: [{ name: 'main' }] },
  };
}

function snapshotRequest(uid: string, actorId: string, atespace = 'demo'): AteletRequest {
  return {
    ...runRequest(uid, actorId, atespace),
    type: CHECKPOINT_TYPE_EXTERNAL,
    externalConfig: { snapshotUriPrefix: `file:///snapshots/${atespace}/${actorId}/1` },
    scope: SNAPSHOT_SCOPE_FULL,
  };
}

function unary<Res>(method: UnaryMethod<Res>, request: AteletRequest, timeoutMs = 10_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected the call to fail');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('fake atelet process', () => {
  let fake: FakeAtelet;
  let client: AteomHerderClient;
  const run = (request: AteletRequest, timeoutMs?: number) =>
    unary(client.run.bind(client), request, timeoutMs);
  const restore = (request: AteletRequest, timeoutMs?: number) =>
    unary(client.restore.bind(client), request, timeoutMs);
  const checkpoint = (request: AteletRequest, timeoutMs?: number) =>
    unary(client.checkpoint.bind(client), request, timeoutMs);

  beforeAll(async () => {
    fake = await startFakeAtelet();
    client = herderClient(fake.endpoint);
  });

  afterAll(async () => {
    client?.close();
    await fake?.stop();
  });

  beforeEach(() => fake.reset());

  it('runs, checkpoints and restores an actor, and tracks the worker it is on', async () => {
    expect(fake.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    await expect(run(runRequest('w-0', 'alpha'))).resolves.toEqual({});
    expect(await fake.workers()).toEqual([
      { uid: 'w-0', actor: 'demo/alpha', template: 'default/counter', loads: 1, checkpoints: 0 },
    ]);

    const response = await checkpoint(snapshotRequest('w-0', 'alpha'));
    expect(response.snapshotFiles).toEqual(FAKE_SNAPSHOT_FILES);
    expect((await fake.workers())[0]?.actor).toBeUndefined();

    await expect(restore(snapshotRequest('w-1', 'alpha'))).resolves.toEqual({});
    const calls = await fake.calls();
    expect(calls.map((call) => [call.method, call.workerUid, call.actor, call.code])).toEqual([
      ['run', 'w-0', 'demo/alpha', status.OK],
      ['checkpoint', 'w-0', 'demo/alpha', status.OK],
      ['restore', 'w-1', 'demo/alpha', status.OK],
    ]);
    expect(calls[2]?.snapshot).toBe('file:///snapshots/demo/alpha/1');
    expect(await fake.stats()).toEqual({
      run: { OK: 1 },
      restore: { OK: 1 },
      checkpoint: { OK: 1 },
    });
    expect(await fake.violations()).toEqual([]);
  });

  it('refuses a second actor on an occupied worker and records the violation', async () => {
    await run(runRequest('w-0', 'alpha'));
    // Same actor again (a retried call) is fine.
    await run(runRequest('w-0', 'alpha'));
    // Same id in another atespace is another actor.
    const error = await failure(restore(snapshotRequest('w-0', 'alpha', 'other')));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toBe('ateom w-0 already holds actor demo/alpha, cannot load other/alpha');
    expect(await fake.violations()).toEqual([
      {
        seq: 3,
        method: 'restore',
        workerUid: 'w-0',
        held: 'demo/alpha',
        requested: 'other/alpha',
        concurrent: false,
      },
    ]);
    expect((await fake.workers())[0]?.actor).toBe('demo/alpha');
  });

  it('refuses to checkpoint a worker that holds no actor or another actor', async () => {
    const empty = await failure(checkpoint(snapshotRequest('w-9', 'alpha')));
    expect(empty.code).toBe(status.FAILED_PRECONDITION);
    expect(empty.details).toBe('ateom w-9 holds no actor');

    await run(runRequest('w-0', 'alpha'));
    const other = await failure(checkpoint(snapshotRequest('w-0', 'beta')));
    expect(other.code).toBe(status.FAILED_PRECONDITION);
    expect(other.details).toBe('ateom w-0 holds actor demo/alpha, not demo/beta');
    expect(await fake.violations()).toHaveLength(1);
  });

  it("answers INVALID_ARGUMENT for requests atelet's validation rejects", async () => {
    const badId = await failure(run(runRequest('w-0', 'Not_A_Label')));
    expect(badId.code).toBe(status.INVALID_ARGUMENT);
    expect(badId.details).toContain('actor_id');

    const noScope = await failure(
      checkpoint({
        ...snapshotRequest('w-0', 'alpha'),
        scope: 0,
      }),
    );
    expect(noScope.code).toBe(status.INVALID_ARGUMENT);
    expect(noScope.details).toBe('scope must be SNAPSHOT_SCOPE_FULL or SNAPSHOT_SCOPE_DATA');
    expect(await fake.workers()).toEqual([]);
  });

  it('fails the next N calls of a method for one actor with the injected code and message', async () => {
    await fake.setFault({
      method: 'run',
      actor: 'demo/alpha',
      count: 2,
      code: status.UNAVAILABLE,
      message: 'ateom is restarting',
    });
    await run(runRequest('w-1', 'beta')); // another actor: not affected
    for (let i = 0; i < 2; i++) {
      const error = await failure(run(runRequest('w-0', 'alpha')));
      expect(error.code).toBe(status.UNAVAILABLE);
      expect(error.details).toBe('ateom is restarting');
    }
    await expect(run(runRequest('w-0', 'alpha'))).resolves.toEqual({});
    expect((await fake.stats()).run).toEqual({ OK: 2, UNAVAILABLE: 2 });
    // A failed call loads nothing: only the last call put alpha on w-0.
    expect((await fake.workers()).find((worker) => worker.uid === 'w-0')?.loads).toBe(1);
  });

  it('delays a call past the caller deadline, and clears faults on request', async () => {
    await fake.setFault({ method: 'checkpoint', delayMs: 60_000, count: 'always' });
    await run(runRequest('w-0', 'alpha'));
    const error = await failure(checkpoint(snapshotRequest('w-0', 'alpha'), 200));
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    await fake.clearFaults();
    await fake.clearWorkers('w-0');
    await run(runRequest('w-0', 'alpha'));
    await expect(checkpoint(snapshotRequest('w-0', 'alpha'))).resolves.toEqual({
      snapshotFiles: FAKE_SNAPSHOT_FILES,
    });
  });

  it('rejects a malformed fault with the reason', async () => {
    await expect(fake.setFault({ method: 'run' })).rejects.toThrow(
      /a fault needs a code, a delayMs, or both/,
    );
  });
});

describe('fake atelet with a fixed set of workers, killed and restarted', () => {
  it('answers NOT_FOUND for unknown workers, UNAVAILABLE once killed, and restarts on the same port', async () => {
    const fake = await startFakeAtelet({ workerUids: ['w-0'] });
    const client = herderClient(fake.endpoint);
    let restarted: FakeAtelet | undefined;
    try {
      const unknown = await failure(unary(client.run.bind(client), runRequest('w-7', 'alpha')));
      expect(unknown.code).toBe(status.NOT_FOUND);
      expect(unknown.details).toBe('ateom w-7 not found');
      await unary(client.run.bind(client), runRequest('w-0', 'alpha'));

      const pid = fake.pid ?? -1;
      await fake.kill();
      expect(isAlive(pid)).toBe(false);
      const down = await failure(unary(client.run.bind(client), runRequest('w-0', 'alpha')));
      expect(down.code).toBe(status.UNAVAILABLE);

      restarted = await startFakeAtelet({ port: fake.port, workerUids: ['w-0'] });
      expect(restarted.endpoint).toBe(fake.endpoint);
      // Its own subchannel: grpc-js shares them per target, and the old one is backing off after the kill.
      const fresh = herderClient(restarted.endpoint, { 'grpc.use_local_subchannel_pool': 1 });
      try {
        // A restarted atelet remembers nothing: the old actor is gone from w-0.
        await unary(fresh.run.bind(fresh), runRequest('w-0', 'beta'));
        expect((await restarted.workers())[0]?.actor).toBe('demo/beta');
      } finally {
        fresh.close();
      }
    } finally {
      client.close();
      await fake.kill();
      await restarted?.stop();
    }
    expect(restarted?.running).toBe(false);
  });
});

describe('fake atelet registering workers with ateapi.WorkerRegistry', () => {
  let registry: Server;
  let address: string;
  const reports: ReportWorkersRequest[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    registry = new Server();
    const service: UntypedServiceImplementation = {
      reportWorkers: (
        call: ServerUnaryCall<ReportWorkersRequest, object>,
        callback: sendUnaryData<object>,
      ) => {
        reports.push(call.request);
        tokens.push(String(call.metadata.get('authorization')[0] ?? ''));
        callback(null, {
          leaseSeconds: call.request.leaseSeconds,
          added: call.request.workers.length,
          removed: 0,
        });
      },
    };
    registry.addService(protos.WorkerRegistry.service, service);
    const port = await new Promise<number>((resolve, reject) =>
      registry.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    address = `127.0.0.1:${port}`;
  });

  afterAll(() => registry?.forceShutdown());

  it('reports its workers with its own endpoint every period, and on demand after a change', async () => {
    const workers = fakeWorkerRegistrations(3, { namespace: 'team', pool: 'small', firstHttpPort: 9000 });
    const fake = await startFakeAtelet({
      registration: {
        ateapiAddress: address,
        nodeName: 'node-a',
        leaseSeconds: 30,
        periodMs: 50,
        workers,
        authorization: 'Bearer t0k3n',
      },
    });
    try {
      while ((await fake.registration()).reports < 3) await new Promise((resolve) => setTimeout(resolve, 20));
      const first = reports[0];
      expect(first).toEqual({
        nodeName: 'node-a',
        ateletEndpoint: fake.endpoint,
        leaseSeconds: 30,
        workers: [
          {
            workerNamespace: 'team',
            workerPool: 'small',
            workerPod: 'small-0',
            ip: '127.0.0.1',
            workerPodUid: 'small-uid-0',
            httpPort: 9000,
          },
          expect.objectContaining({ workerPod: 'small-1', workerPodUid: 'small-uid-1', httpPort: 9001 }),
          expect.objectContaining({ workerPod: 'small-2', workerPodUid: 'small-uid-2', httpPort: 9002 }),
        ],
      });
      expect(tokens[0]).toBe('Bearer t0k3n');

      // Registered workers are the atelet's workers: others are unknown to it.
      const client = herderClient(fake.endpoint);
      try {
        await unary(client.run.bind(client), runRequest('small-uid-1', 'alpha'));
        const unknown = await failure(unary(client.run.bind(client), runRequest('w-0', 'alpha')));
        expect(unknown.code).toBe(status.NOT_FOUND);
      } finally {
        client.close();
      }

      await fake.setRegistration({ workers: workers.slice(0, 1), paused: true });
      const status1 = await fake.reportNow();
      expect(status1).toMatchObject({ enabled: true, paused: true, failures: 0 });
      expect(status1.lastError).toBeUndefined();
      expect(status1.lastResponse).toEqual({ leaseSeconds: 30, added: 1, removed: 0 });
      expect(reports.at(-1)?.workers.map((worker) => worker.workerPod)).toEqual(['small-0']);
    } finally {
      await fake.stop();
    }
  });

  it('keeps reporting when ateapi is down and records why it failed', async () => {
    const fake = await startFakeAtelet({
      registration: { ateapiAddress: '127.0.0.1:1', periodMs: 50, workers: fakeWorkerRegistrations(1) },
    });
    try {
      while ((await fake.registration()).failures < 2)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const state = await fake.registration();
      expect(state.reports).toBe(0);
      expect(state.lastError).toMatch(/^14 /);
    } finally {
      await fake.stop();
    }
  });
});
