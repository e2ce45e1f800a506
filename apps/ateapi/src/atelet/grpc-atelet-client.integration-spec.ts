// The real gRPC atelet client against fake atelet processes on loopback.
import { status } from '@grpc/grpc-js';
import { atelet } from '@substrate/proto';
import { type FakeAtelet, FAKE_SNAPSHOT_FILES, startFakeAtelet } from '@substrate/testing';
import { ControlError } from '../errors/control-error';
import { GrpcAteletClient } from './grpc-atelet-client';

const runRequest = (uid: string, actorId: string): atelet.RunRequest =>
  atelet.RunRequest.create({
    targetAteomUid: uid,
    actorTemplateNamespace: 'default',
    actorTemplateName: 'counter',
    actorId,
    actorAtespace: 'demo',
  });

function withoutAssets({
  sandboxAssets: _assets,
  ...fields
}: atelet.RunRequest): Omit<atelet.RunRequest, 'sandboxAssets'> {
  return fields;
}

const snapshotRequest = (uid: string, actorId: string): atelet.CheckpointRequest =>
  atelet.CheckpointRequest.create({
    ...withoutAssets(runRequest(uid, actorId)),
    type: atelet.CheckpointType.CHECKPOINT_TYPE_EXTERNAL,
    config: { $case: 'externalConfig', value: { snapshotUriPrefix: `file:///snapshots/demo/${actorId}/1` } },
    scope: atelet.SnapshotScope.SNAPSHOT_SCOPE_FULL,
  });

const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1_000);

async function controlError(promise: Promise<unknown>): Promise<ControlError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ControlError) return error;
    throw error;
  }
  throw new Error('expected a ControlError');
}

describe('GrpcAteletClient against a fake atelet process', () => {
  let fake: FakeAtelet;
  let client: GrpcAteletClient;

  beforeAll(async () => {
    fake = await startFakeAtelet();
  });

  afterAll(async () => {
    await fake?.stop();
  });

  beforeEach(async () => {
    await fake.reset();
    client = new GrpcAteletClient();
  });

  afterEach(() => client.close());

  it('runs, checkpoints and restores, and returns the snapshot files', async () => {
    await client.run(fake.endpoint, runRequest('w-0', 'alpha'), inSeconds(10));
    const response = await client.checkpoint(fake.endpoint, snapshotRequest('w-0', 'alpha'), inSeconds(10));
    expect(response.snapshotFiles).toEqual(FAKE_SNAPSHOT_FILES);
    await client.restore(fake.endpoint, snapshotRequest('w-1', 'alpha'), inSeconds(10));
    expect((await fake.calls()).map((call) => `${call.method} ${call.workerUid} ${call.actor}`)).toEqual([
      'run w-0 demo/alpha',
      'checkpoint w-0 demo/alpha',
      'restore w-1 demo/alpha',
    ]);
    expect(client.connections).toBe(1);
  });

  it("passes atelet's code and message through unchanged", async () => {
    const busy = await controlError(
      client.checkpoint(fake.endpoint, snapshotRequest('w-5', 'alpha'), inSeconds(10)),
    );
    expect([busy.code, busy.message]).toEqual(['FAILED_PRECONDITION', 'ateom w-5 holds no actor']);

    const invalid = await controlError(client.run(fake.endpoint, runRequest('w-0', 'Bad_Id'), inSeconds(10)));
    expect(invalid.code).toBe('INVALID_ARGUMENT');
    expect(invalid.message).toContain('actor_id');

    for (const [code, name] of [
      [status.UNAVAILABLE, 'UNAVAILABLE'],
      [status.RESOURCE_EXHAUSTED, 'RESOURCE_EXHAUSTED'],
      [status.DATA_LOSS, 'INTERNAL'], // outside the control taxonomy
    ] as const) {
      await fake.setFault({ method: 'restore', code, message: `injected ${code}` });
      const error = await controlError(
        client.restore(fake.endpoint, snapshotRequest('w-0', 'alpha'), inSeconds(10)),
      );
      expect([error.code, error.message]).toEqual([name, `injected ${code}`]);
    }
  });

  it('gives up at the deadline with DEADLINE_EXCEEDED', async () => {
    await fake.setFault({ method: 'run', delayMs: 60_000 });
    const error = await controlError(
      client.run(fake.endpoint, runRequest('w-0', 'alpha'), new Date(Date.now() + 300)),
    );
    expect(error.code).toBe('DEADLINE_EXCEEDED');
  });

  it('reports an atelet nobody listens on as UNAVAILABLE', async () => {
    const error = await controlError(client.run('127.0.0.1:1', runRequest('w-0', 'alpha'), inSeconds(10)));
    expect(error.code).toBe('UNAVAILABLE');
  });

  it('keeps at most maxConnections and still reaches every atelet after evictions', async () => {
    const other = await startFakeAtelet();
    const small = new GrpcAteletClient({ maxConnections: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        for (const target of [fake, other]) {
          await small.run(target.endpoint, runRequest(`w-${i}`, `actor-${i}`), inSeconds(10));
          expect(small.connections).toBe(1);
        }
      }
      expect((await fake.calls()).length).toBe(3);
      expect((await other.calls()).length).toBe(3);
    } finally {
      await small.close();
      await other.stop();
    }
  });

  it('reaches an atelet again once it is back after a crash', async () => {
    const flaky = await startFakeAtelet();
    let back: FakeAtelet | undefined;
    try {
      await client.run(flaky.endpoint, runRequest('w-0', 'alpha'), inSeconds(10));
      await flaky.kill();
      const down = await controlError(client.run(flaky.endpoint, runRequest('w-0', 'alpha'), inSeconds(10)));
      expect(down.code).toBe('UNAVAILABLE');
      back = await startFakeAtelet({ port: flaky.port });
      // The cached channel reconnects by itself (bounded backoff); retry until it has.
      let lastError: unknown;
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          await client.run(back.endpoint, runRequest('w-0', 'alpha'), inSeconds(10));
          lastError = undefined;
          break;
        } catch (error) {
          lastError = error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      expect(lastError).toBeUndefined();
      expect((await back.calls()).length).toBe(1);
    } finally {
      await flaky.kill();
      await back?.stop();
    }
  });
});
