// Faults with ateom as a real child process: SIGKILL during a checkpoint, a readiness probe that never
// answers, and SIGTERM (graceful shutdown). Real runsc throughout.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { ateom } from '@substrate/proto';
import { describeWithComponents, requireTool, tempDir } from '@substrate/testing';
import {
  ATEOM_COMPONENTS,
  AteomProcess,
  AteomTestClient,
  ateomConfig,
  ateomEnv,
  callCounter,
  contentAddressedRunsc,
  grpcFailure,
  httpGet,
  keepSnapshot,
  pathsOf,
  prepareBundle,
  runAteomToExit,
  stageSnapshot,
  unpackedCounter,
} from '../../test/ateom-harness';
import { actorLogPath } from '../actor-log/actor-log';
import { NetnsManager, RunscDriver, endpointAddresses } from '../sandbox';
import { type ActorRef } from './workload-request';

const FULL = ateom.SnapshotScope.SNAPSHOT_SCOPE_FULL;

describeWithComponents(ATEOM_COMPONENTS, 'ateom faults (ateom as a child process)', () => {
  const suffix = (process.pid % 100_000).toString(36);
  const endpointIndex = 2_000 + (process.pid % 2_000);
  const host = endpointAddresses(endpointIndex).endpoint;
  const worker = `fa${suffix}`;
  let tmp: { path: string; remove: () => void };
  let root: string;
  let unpacked: Awaited<ReturnType<typeof unpackedCounter>>;
  let runscPath: string;
  const started: AteomProcess[] = [];
  const clients: AteomTestClient[] = [];

  beforeAll(async () => {
    tmp = tempDir('ateom-faults');
    root = join(tmp.path, 'node');
    unpacked = await unpackedCounter(join(tmp.path, 'image'));
    runscPath = contentAddressedRunsc(join(tmp.path, 'static-files'));
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const ateomProcess of started) await ateomProcess.terminate();
    // Whatever a killed ateom left behind: the sandbox of this worker and its namespaces.
    await new RunscDriver({
      runsc: requireTool('runsc'),
      stateDir: join(root, 'workers', worker, 'runsc-state'),
      procSysNetWorkaround: false,
    }).delete('actor');
    await new NetnsManager({ ip: requireTool('ip') }).remove(worker);
    tmp.remove();
  });

  const config = (extra: Record<string, string> = {}) => ateomConfig(root, worker, endpointIndex, extra);

  async function startAteom(
    extra: Record<string, string> = {},
  ): Promise<{ process: AteomProcess; client: AteomTestClient }> {
    const env = ateomEnv(root, worker, endpointIndex, extra);
    const ateomProcess = await AteomProcess.start(env, config(extra).socket);
    started.push(ateomProcess);
    const client = new AteomTestClient(config(extra).socket);
    clients.push(client);
    return { process: ateomProcess, client };
  }

  const actor: ActorRef = {
    atespace: 'demo',
    templateNamespace: 'demo',
    templateName: 'counter',
    actorId: 'crash-1',
  };
  function request(readyPort = 80) {
    return {
      actorAtespace: actor.atespace,
      actorTemplateNamespace: actor.templateNamespace,
      actorTemplateName: actor.templateName,
      actorId: actor.actorId,
      runscPath,
      spec: {
        containers: [
          {
            name: 'counter',
            readyz: { httpGet: { path: '/readyz', port: readyPort } },
            durableDirVolumes: ['/home/counter'],
          },
        ],
      },
    };
  }

  it('restores the previous snapshot after ateom is killed during a checkpoint', async () => {
    const paths = pathsOf(config(), actor);
    const first = await startAteom();
    prepareBundle(paths, 'counter', unpacked);
    await first.client.run(request());
    expect(await callCounter(host, 80)).toMatchObject({ memory: 1, file: 1 });
    const { snapshotFiles } = await first.client.checkpoint({ ...request(), scope: FULL });
    const previous = keepSnapshot(paths, snapshotFiles, join(tmp.path, 'snapshots', 'previous'));

    stageSnapshot(paths, previous);
    await first.client.restore({ ...request(), scope: FULL });
    expect(await callCounter(host, 80)).toMatchObject({ memory: 2, file: 2 });

    // Kill ateom (SIGKILL, by pid) as soon as it has begun the next checkpoint.
    const log = actorLogPath(config().logs.dir, actor);
    const checkpointing = () => (readFileSync(log, 'utf8').match(/"Actor checkpointing"/g) ?? []).length;
    const before = checkpointing();
    const checkpoint = grpcFailure(first.client.checkpoint({ ...request(), scope: FULL }));
    while (checkpointing() === before) await new Promise((resolve) => setImmediate(resolve));
    await first.process.kill();
    expect((await first.process.exited).signal).toBe('SIGKILL');
    expect([status.UNAVAILABLE, status.CANCELLED, status.INTERNAL]).toContain((await checkpoint).code);

    // A new ateom for the same worker deletes what the dead one left running and restores the previous
    // snapshot: the state it held, not whatever the interrupted checkpoint wrote.
    const second = await startAteom();
    // A second process for the same worker is refused while this one serves it.
    const intruder = await runAteomToExit(ateomEnv(root, worker, endpointIndex));
    expect(intruder.code).toBe(1);
    expect(intruder.output).toContain(`worker ${worker} is already served by process ${second.process.pid}`);
    stageSnapshot(paths, previous);
    await second.client.restore({ ...request(), scope: FULL });
    expect(await callCounter(host, 80)).toMatchObject({ memory: 2, file: 2 });
    expect(await httpGet(host, 80, '/id')).toBe('crash-1');
    await second.client.checkpoint({ ...request(), scope: FULL });
    await second.process.terminate();
    expect(second.process.log).toContain('worker closed');
  });

  it('fails a run whose readiness probe never answers with DEADLINE_EXCEEDED, and the worker is reusable', async () => {
    const { process: ateomProcess, client } = await startAteom({ ATEOM_READY_TIMEOUT_MS: '1500' });
    prepareBundle(pathsOf(config(), actor), 'counter', unpacked);
    const error = await grpcFailure(client.run(request(81)));
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    expect(error.details).toMatch(
      /^http:\/\/169\.254\.\d+\.\d+:81\/readyz did not answer 2xx within 1500 ms \(\d+ attempts\)$/,
    );
    // The failed sandbox is gone; the same worker boots the actor with the right probe.
    await client.run(request());
    expect(await callCounter(host, 80)).toMatchObject({ memory: 1, file: 1 });

    // SIGTERM: ateom stops the sandbox, removes its network and socket, then exits by the signal (Nest
    // re-raises it once the shutdown hooks have run).
    expect(await ateomProcess.terminate()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(ateomProcess.log).toContain('worker closed');
    expect(existsSync(config().socket)).toBe(false);
    expect(new NetnsManager({ ip: requireTool('ip') }).exists(worker)).toBe(false);
    await expect(httpGet(host, 80, '/readyz')).rejects.toThrow();
    expect(
      await new RunscDriver({
        runsc: requireTool('runsc'),
        stateDir: join(root, 'workers', worker, 'runsc-state'),
        procSysNetWorkaround: false,
      }).state('actor'),
    ).toBeUndefined();
  });
});
