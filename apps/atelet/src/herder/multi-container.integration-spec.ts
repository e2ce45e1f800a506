// A template of two containers through atelet: atelet prepares the pause bundle from spec.pause_image and
// one bundle per container, ateom runs them in one gVisor sandbox. atelet and two ateoms as real child
// processes, real runsc, images from tools/images as OCI image layouts; suspend (EXTERNAL, file://) and
// restore on the other worker, then pause (LOCAL, DATA) and resume on the first.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { buildImage, type BuiltImage } from '@substrate/images';
import { atelet } from '@substrate/proto';
import { newSnapshotPrefix } from '@substrate/snapshot-store';
import {
  describeWithComponents,
  freePort,
  requireTool,
  tcpAccepts,
  tempDir,
  unixSocketAccepts,
  ateomToolsEnv,
} from '@substrate/testing';
import {
  NODE_COMPONENTS,
  HerderClient,
  ServiceProcess,
  callCounter,
  endpointAddress,
  grpcFailure,
  httpGet,
  sha256File,
} from '../../test/node-harness';

const { SNAPSHOT_SCOPE_FULL: FULL, SNAPSHOT_SCOPE_DATA: DATA } = atelet.SnapshotScope;

describeWithComponents(NODE_COMPONENTS, 'atelet: a template of two containers in one sandbox', () => {
  const suffix = (process.pid % 100_000).toString(36);
  const base = 1_500 + (process.pid % 250) * 2;
  const workers = [
    { name: `pa${suffix}`, index: base },
    { name: `pb${suffix}`, index: base + 1 },
  ].map((w) => ({ ...w, uid: `uid-${w.name}`, ip: endpointAddress(w.index) }));
  const [A, B] = workers as [(typeof workers)[number], (typeof workers)[number]];
  let tmp: { path: string; remove: () => void };
  let root: string;
  let counter: BuiltImage;
  let pause: BuiltImage;
  let runsc: { url: string; sha256: string };
  const services: ServiceProcess[] = [];
  let client: HerderClient;

  beforeAll(async () => {
    tmp = tempDir('atelet-multi');
    root = join(tmp.path, 'node');
    counter = await buildImage('counter');
    pause = await buildImage('pause');
    const runscPath = requireTool('runsc');
    runsc = { url: `file://${runscPath}`, sha256: sha256File(runscPath) };
    for (const worker of workers) {
      const socket = join(root, 'workers', worker.name, 'ateom.sock');
      services.push(
        await ServiceProcess.start(
          `ateom ${worker.name}`,
          'ateom',
          {
            ...ateomToolsEnv(),
            ATEOM_ROOT: root,
            ATEOM_WORKER: worker.name,
            ATEOM_ENDPOINT_INDEX: String(worker.index),
          },
          () => unixSocketAccepts(socket),
        ),
      );
    }
    const grpcPort = await freePort();
    const httpPort = await freePort();
    services.push(
      await ServiceProcess.start(
        'atelet',
        'atelet',
        {
          ATELET_ROOT: root,
          ATELET_CACHE_DIR: join(root, 'atelet'),
          ATELET_GRPC_LISTEN: `127.0.0.1:${grpcPort}`,
          ATELET_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
          ATELET_WORKERS: JSON.stringify(
            workers.map((w) => ({
              name: w.name,
              uid: w.uid,
              pool: 'pair',
              namespace: 'demo',
              socket: join(root, 'workers', w.name, 'ateom.sock'),
              endpoint: `${w.ip}:80`,
            })),
          ),
        },
        () => tcpAccepts('127.0.0.1', grpcPort),
      ),
    );
    client = new HerderClient(`127.0.0.1:${grpcPort}`);
  });

  afterAll(async () => {
    client?.close();
    // atelet first; then each ateom (SIGTERM) deletes its sandbox and removes its network namespaces.
    for (const service of services.reverse()) await service.stop();
    tmp?.remove();
  });

  const actor = (actorId: string) => ({
    actorAtespace: 'demo',
    actorTemplateNamespace: 'demo',
    actorTemplateName: 'pair',
    actorId,
  });
  const durable = (name: string): atelet.Volume => ({
    name,
    type: atelet.VolumeType.VOLUME_TYPE_DURABLE_DIR,
    source: { $case: 'durableDir', value: {} },
  });
  const spec = (pauseImage = `oci:${pause.layoutDir}:${pause.tag}`): atelet.WorkloadSpec => ({
    pauseImage,
    containers: [
      {
        name: 'counter',
        image: `oci:${counter.layoutDir}:${counter.tag}`,
        command: [],
        env: [{ name: 'TICK_MS', value: '3600000' }],
        readyz: { httpGet: { path: '/readyz', port: 80 } },
        volumeMounts: [{ name: 'first', mountPath: '/home/counter' }],
      },
      {
        name: 'second',
        image: `oci:${counter.layoutDir}:${counter.tag}`,
        command: [],
        env: [
          { name: 'TICK_MS', value: '3600000' },
          { name: 'COUNTER_PORT', value: '81' },
          { name: 'COUNTER_DIR', value: '/home/second' },
        ],
        readyz: { httpGet: { path: '/readyz', port: 81 } },
        volumeMounts: [{ name: 'second', mountPath: '/home/second' }],
      },
    ],
    volumes: [durable('first'), durable('second')],
  });
  const sandboxAssets = (): atelet.SandboxAssets => ({
    sandboxClass: 'gvisor',
    assets: {
      [process.arch === 'x64' ? 'amd64' : process.arch]: {
        files: { runsc: { url: runsc.url, sha256: runsc.sha256 } },
      },
    },
  });

  it('runs both containers, suspends and restores them on the other worker, pauses and resumes them with DATA', async () => {
    await client.run({ ...actor('p1'), targetAteomUid: A.uid, spec: spec(), sandboxAssets: sandboxAssets() });
    expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 1, file: 1 });
    expect(await callCounter(A.ip, 81)).toMatchObject({ memory: 1, file: 1 });
    expect(await callCounter(A.ip, 81)).toMatchObject({ memory: 2, file: 2 });
    // atelet wrote the pause bundle as the sandbox's root container.
    const pauseConfig = JSON.parse(
      readFileSync(join(root, 'actors', 'demo:demo:pair:p1', 'bundles', 'pause', 'config.json'), 'utf8'),
    ) as { process: { args: string[] }; annotations: Record<string, string> };
    expect(pauseConfig.process.args).toEqual(['/pause']);
    expect(pauseConfig.annotations['io.kubernetes.cri.container-type']).toBe('sandbox');

    const uri = `file://${join(tmp.path, 'snapshots')}/${newSnapshotPrefix('p1.demo')}`;
    const external = {
      type: atelet.CheckpointType.CHECKPOINT_TYPE_EXTERNAL,
      config: { $case: 'externalConfig' as const, value: { snapshotUriPrefix: uri } },
      scope: FULL,
    };
    const suspended = await client.checkpoint({ ...actor('p1'), targetAteomUid: A.uid, ...external });
    expect(suspended.snapshotFiles).toEqual([
      'checkpoint.img',
      'durable-dirs.tar',
      'pages.img',
      'pages_meta.img',
    ]);
    await client.restore({ ...actor('p1'), targetAteomUid: B.uid, spec: spec(), ...external });
    expect(await callCounter(B.ip, 80)).toMatchObject({ memory: 2, file: 2 });
    expect(await callCounter(B.ip, 81)).toMatchObject({ memory: 3, file: 3 });
    expect(await httpGet(B.ip, 81, '/id')).toBe('p1');

    const local = {
      type: atelet.CheckpointType.CHECKPOINT_TYPE_LOCAL,
      config: { $case: 'localConfig' as const, value: { snapshotPrefix: 'p1-pause-1' } },
      scope: DATA,
    };
    const paused = await client.checkpoint({ ...actor('p1'), targetAteomUid: B.uid, ...local });
    expect(paused.snapshotFiles).toEqual(['durable-dirs.tar']);
    await client.restore({ ...actor('p1'), targetAteomUid: A.uid, spec: spec(), ...local });
    // DATA: a cold boot of both containers over their durable dirs.
    expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 1, file: 3 });
    expect(await callCounter(A.ip, 81)).toMatchObject({ memory: 1, file: 4 });
    await client.checkpoint({
      ...actor('p1'),
      targetAteomUid: A.uid,
      ...local,
      config: { $case: 'localConfig', value: { snapshotPrefix: 'p1-pause-2' } },
    });
  });

  it('refuses several containers without spec.pause_image', async () => {
    const failure = await grpcFailure(
      client.run({ ...actor('p2'), targetAteomUid: A.uid, spec: spec(''), sandboxAssets: sandboxAssets() }),
    );
    expect(failure.code).toBe(status.INVALID_ARGUMENT);
    expect(failure.details).toContain('spec.pause_image: is required with more than one container');
  });
});
