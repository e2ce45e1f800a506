// A template of two containers in one gVisor sandbox, through ateom's gRPC API with real runsc: the pause
// container as the sandbox's root and two counters beside it (ports 80 and 81, durable dirs
// /home/counter and /home/second), run on one worker, FULL checkpoint → restore on another worker, DATA
// checkpoint → restore back on the first.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { type INestMicroservice } from '@nestjs/common';
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
  stageSnapshot,
  unpackedImage,
} from '../../test/ateom-harness';
import { actorLogPath } from '../actor-log/actor-log';
import { type AteomConfig } from '../config';
import { NetnsManager, RunscDriver, endpointAddresses } from '../sandbox';
import { createAteomServer } from '../server';
import { type ActorRef } from './workload-request';

const { SNAPSHOT_SCOPE_FULL: FULL, SNAPSHOT_SCOPE_DATA: DATA } = ateom.SnapshotScope;

describeWithComponents(ATEOM_COMPONENTS, 'ateom: several containers in one sandbox', () => {
  const suffix = (process.pid % 100_000).toString(36);
  const base = 8_000 + 3 * (process.pid % 60);
  let tmp: { path: string; remove: () => void };
  const workers: { config: AteomConfig; app: INestMicroservice; client: AteomTestClient; host: string }[] =
    [];
  let counterImage: Awaited<ReturnType<typeof unpackedImage>>;
  let pauseImage: Awaited<ReturnType<typeof unpackedImage>>;
  let runscPath: string;

  beforeAll(async () => {
    tmp = tempDir('ateom-multi');
    counterImage = await unpackedImage(join(tmp.path, 'counter'), 'counter');
    pauseImage = await unpackedImage(join(tmp.path, 'pause'), 'pause');
    runscPath = contentAddressedRunsc(join(tmp.path, 'static-files'));
    for (const [i, name] of [`ma${suffix}`, `mb${suffix}`].entries()) {
      // Both workers on one node: they share the actors' directories, as atelet's workers do.
      const config = ateomConfig(join(tmp.path, 'node'), name, base + i);
      const app = await createAteomServer(config, process.env['ATEOM_TEST_LOG'] ? undefined : false);
      await app.listen();
      workers.push({
        config,
        app,
        client: new AteomTestClient(config.socket),
        host: endpointAddresses(base + i).endpoint,
      });
    }
  });

  afterAll(async () => {
    for (const worker of workers) {
      worker.client.close();
      await worker.app.close();
    }
    tmp.remove();
  });

  function workerAt(i: number) {
    const worker = workers[i];
    if (worker === undefined) throw new Error(`worker ${i} did not start`);
    return worker;
  }

  const spec = (): ateom.WorkloadSpec => ({
    containers: [
      {
        name: 'counter',
        readyz: { httpGet: { path: '/readyz', port: 80 } },
        durableDirVolumes: ['/home/counter'],
      },
      {
        name: 'second',
        readyz: { httpGet: { path: '/readyz', port: 81 } },
        durableDirVolumes: ['/home/second'],
      },
    ],
  });

  const actor = (actorId: string): ActorRef => ({
    atespace: 'demo',
    templateNamespace: 'demo',
    templateName: 'pair',
    actorId,
  });

  function request(who: ActorRef) {
    return {
      actorAtespace: who.atespace,
      actorTemplateNamespace: who.templateNamespace,
      actorTemplateName: who.templateName,
      actorId: who.actorId,
      runscPath,
      spec: spec(),
    };
  }

  /** What atelet prepares: the pause bundle and one bundle per container (the second on port 81). */
  function prepareBundles(who: ActorRef): void {
    const paths = pathsOf(workerAt(0).config, who);
    prepareBundle(paths, 'pause', pauseImage);
    prepareBundle(paths, 'counter', counterImage);
    prepareBundle(paths, 'second', counterImage, ['COUNTER_PORT=81', 'COUNTER_DIR=/home/second']);
  }

  const fileIn = (who: ActorRef, mountPath: string) =>
    join(pathsOf(workerAt(0).config, who).durableDir(mountPath), 'a.txt');

  it('runs both containers, keeps the memory of each through FULL, their durable dirs through DATA', async () => {
    const [a, b] = [workerAt(0), workerAt(1)];
    const alpha = actor('alpha');
    prepareBundles(alpha);
    await a.client.run(request(alpha));

    // Both containers answer on their ports of the one sandbox, each with its own counters and identity.
    expect(await callCounter(a.host, 80)).toMatchObject({ memory: 1, file: 1 });
    expect(await callCounter(a.host, 80)).toMatchObject({ memory: 2, file: 2 });
    expect(await callCounter(a.host, 81)).toMatchObject({ memory: 1, file: 1 });
    expect(await httpGet(a.host, 80, '/id')).toBe('alpha');
    expect(await httpGet(a.host, 81, '/id')).toBe('alpha');
    const driver = new RunscDriver({
      runsc: requireTool('runsc'),
      stateDir: join(a.config.workDir, 'runsc-state'),
      procSysNetWorkaround: false,
    });
    expect(await driver.list()).toEqual([
      { id: 'pause', status: 'running', root: true },
      { id: 'counter', status: 'running', root: false },
      { id: 'second', status: 'running', root: false },
    ]);

    // FULL on worker A, restored on worker B as another actor: memory and files of both come back.
    const full = await a.client.checkpoint({ ...request(alpha), scope: FULL });
    expect(full.snapshotFiles).toEqual(['checkpoint.img', 'durable-dirs.tar', 'pages.img', 'pages_meta.img']);
    const fullSnapshot = keepSnapshot(pathsOf(a.config, alpha), full.snapshotFiles, join(tmp.path, 'full'));
    const beta = actor('beta');
    prepareBundles(beta);
    stageSnapshot(pathsOf(b.config, beta), fullSnapshot);
    await b.client.restore({ ...request(beta), scope: FULL });
    expect(await callCounter(b.host, 80)).toMatchObject({ memory: 3, file: 3 });
    expect(await callCounter(b.host, 81)).toMatchObject({ memory: 2, file: 2 });
    // The identity is mounted again into every container: each reads the restored actor's id.
    expect(await httpGet(b.host, 80, '/id')).toBe('beta');
    expect(await httpGet(b.host, 81, '/id')).toBe('beta');
    // A's sandbox is deleted in the background after the checkpoint, every container of it.
    const deadline = Date.now() + 10_000;
    while ((await driver.list()).length > 0 && Date.now() < deadline) await sleep(100);
    expect(await driver.list()).toEqual([]);

    // DATA on worker B: only the durable dirs, one per container; restored on A as a cold boot of both.
    const data = await b.client.checkpoint({ ...request(beta), scope: DATA });
    expect(data.snapshotFiles).toEqual(['durable-dirs.tar']);
    const dataSnapshot = keepSnapshot(pathsOf(b.config, beta), data.snapshotFiles, join(tmp.path, 'data'));
    const gamma = actor('gamma');
    prepareBundles(gamma);
    stageSnapshot(pathsOf(a.config, gamma), dataSnapshot);
    await a.client.restore({ ...request(gamma), scope: DATA });
    expect(readFileSync(fileIn(gamma, '/home/counter'), 'utf8')).toBe('3');
    expect(readFileSync(fileIn(gamma, '/home/second'), 'utf8')).toBe('2');
    expect(await callCounter(a.host, 80)).toMatchObject({ memory: 1, file: 4 });
    expect(await callCounter(a.host, 81)).toMatchObject({ memory: 1, file: 3 });
    expect(await httpGet(a.host, 81, '/id')).toBe('gamma');
    await a.client.checkpoint({ ...request(gamma), scope: FULL });
  });

  it("labels each container's output with its name in the actor log", () => {
    const records = readFileSync(actorLogPath(workerAt(0).config.logs.dir, actor('alpha')), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { message: string; labels: Record<string, string> });
    const container = (message: string) =>
      records.filter((r) => r.message === message).map((r) => r.labels['ate.dev/container_name']);
    expect(container('counter listening on 80')).toEqual(['counter']);
    expect(container('counter listening on 81')).toEqual(['second']);
    // The restored sandbox's output too: beta's log has a request line from each container.
    const restored = readFileSync(actorLogPath(workerAt(1).config.logs.dir, actor('beta')), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { message: string; memory?: number; labels: Record<string, string> })
      .filter((r) => r.message === 'request')
      .map((r) => [r.labels['ate.dev/container_name'], r.memory]);
    expect(restored).toEqual(
      expect.arrayContaining([
        ['counter', 3],
        ['second', 2],
      ]),
    );
  });

  it('refuses a workload of several containers without the pause bundle, before touching anything', async () => {
    const a = workerAt(0);
    const delta = actor('delta');
    const paths = pathsOf(a.config, delta);
    prepareBundle(paths, 'counter', counterImage);
    prepareBundle(paths, 'second', counterImage, ['COUNTER_PORT=81', 'COUNTER_DIR=/home/second']);
    const failure = await grpcFailure(a.client.run(request(delta)));
    expect(failure.code).toBe(status.FAILED_PRECONDITION);
    expect(failure.details).toBe(
      `bundle config.json not found at ${join(paths.bundle('pause'), 'config.json')}`,
    );
    expect(existsSync(paths.durableDir('/home/counter'))).toBe(false);
  });
  it('deletes every container of a sandbox a killed predecessor left, root first, and runs again', async () => {
    const worker = `mk${suffix}`;
    const index = base + 2;
    const root = join(tmp.path, 'node');
    const env = ateomEnv(root, worker, index);
    const config = ateomConfig(root, worker, index);
    const driver = new RunscDriver({
      runsc: requireTool('runsc'),
      stateDir: join(config.workDir, 'runsc-state'),
      procSysNetWorkaround: false,
    });
    const host = endpointAddresses(index).endpoint;
    const epsilon = actor('epsilon');
    prepareBundles(epsilon);
    const killed = await AteomProcess.start(env, config.socket);
    let client = new AteomTestClient(config.socket);
    try {
      await client.run(request(epsilon));
      expect(await callCounter(host, 81)).toMatchObject({ memory: 1 });
      client.close();
      await killed.kill();
      // The sandbox outlives the killed ateom (runsc runs it detached).
      expect((await driver.list()).map((c) => c.id)).toEqual(['pause', 'counter', 'second']);
      expect(await callCounter(host, 81)).toMatchObject({ memory: 2 });

      const next = await AteomProcess.start(env, config.socket);
      client = new AteomTestClient(config.socket);
      try {
        expect(await driver.list()).toEqual([]);
        await client.run(request(epsilon));
        expect(await callCounter(host, 81)).toMatchObject({ memory: 1 });
      } finally {
        client.close();
        await next.terminate();
      }
    } finally {
      client.close();
      await killed.kill();
      for (const container of await driver.list()) await driver.delete(container.id);
      await new NetnsManager({ ip: requireTool('ip') }).remove(worker);
    }
  });
});
