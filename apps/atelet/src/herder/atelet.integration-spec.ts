// atelet end to end through its gRPC API: atelet and two ateoms as real child processes, real runsc, the
// real counter image (an OCI image layout from tools/images), snapshots to file:// and to an S3 server on
// loopback. Pause (LOCAL) and resume on the same worker, suspend (EXTERNAL) and restore on the other
// worker, a stale sandbox replaced, tampered snapshots and a wrong runsc refused; the actor's log read
// and followed through atelet's HTTP port.
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { buildImage, COUNTER_DURABLE_DIR, type BuiltImage } from '@substrate/images';
import { atelet } from '@substrate/proto';
import { newSnapshotPrefix } from '@substrate/snapshot-store';
import {
  describeWithComponents,
  freePort,
  requireTool,
  startS3Server,
  tcpAccepts,
  tempDir,
  unixSocketAccepts,
  type S3ServerInstance,
  ateomToolsEnv,
} from '@substrate/testing';
import {
  NODE_COMPONENTS,
  HerderClient,
  type ActorLogRecord,
  ServiceProcess,
  callCounter,
  endpointAddress,
  followActorLog,
  getActorLog,
  grpcFailure,
  sha256File,
} from '../../test/node-harness';

const FULL = atelet.SnapshotScope.SNAPSHOT_SCOPE_FULL;
const LOCAL = atelet.CheckpointType.CHECKPOINT_TYPE_LOCAL;
const EXTERNAL = atelet.CheckpointType.CHECKPOINT_TYPE_EXTERNAL;

describeWithComponents([...NODE_COMPONENTS, 'versitygw'], 'atelet with real ateoms and runsc', () => {
  const suffix = (process.pid % 100_000).toString(36);
  const base = 5_000 + (process.pid % 1_500) * 2;
  const workers = [
    { name: `la${suffix}`, index: base },
    { name: `lb${suffix}`, index: base + 1 },
  ].map((w) => ({ ...w, uid: `uid-${w.name}`, ip: endpointAddress(w.index) }));
  const [A, B] = workers as [(typeof workers)[number], (typeof workers)[number]];
  let tmp: { path: string; remove: () => void };
  let root: string;
  let image: BuiltImage;
  let runsc: { url: string; sha256: string };
  let s3: S3ServerInstance;
  const ateoms: ServiceProcess[] = [];
  let ateletProcess: ServiceProcess | undefined;
  let client: HerderClient;
  let grpcPort: number;
  let httpPort: number;
  const ateomEnv = (worker: (typeof workers)[number]) => ({
    ...ateomToolsEnv(),
    ATEOM_ROOT: root,
    ATEOM_WORKER: worker.name,
    ATEOM_ENDPOINT_INDEX: String(worker.index),
  });
  const ateomSocket = (worker: (typeof workers)[number]) => join(root, 'workers', worker.name, 'ateom.sock');
  const startAtelet = (cacheDir = join(root, 'atelet')) =>
    ServiceProcess.start(
      'atelet',
      'atelet',
      {
        ATELET_ROOT: root,
        ATELET_CACHE_DIR: cacheDir,
        ATELET_GRPC_LISTEN: `127.0.0.1:${grpcPort}`,
        ATELET_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
        ATELET_WORKERS: JSON.stringify(
          workers.map((w) => ({
            name: w.name,
            uid: w.uid,
            pool: 'counter',
            namespace: 'demo',
            socket: ateomSocket(w),
            endpoint: `${w.ip}:80`,
          })),
        ),
        ATELET_S3_ENDPOINT: s3.endpoint,
        ATELET_S3_REGION: s3.region,
        ATELET_S3_ACCESS_KEY_ID: s3.accessKeyId,
        ATELET_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
      () => tcpAccepts('127.0.0.1', grpcPort),
    );
  const figures: Record<string, number> = {};
  let ateletLogs = '';

  beforeAll(async () => {
    tmp = tempDir('atelet-e2e');
    root = join(tmp.path, 'node');
    image = await buildImage('counter');
    const runscPath = requireTool('runsc');
    runsc = { url: `file://${runscPath}`, sha256: sha256File(runscPath) };
    s3 = await startS3Server({ buckets: ['snapshots'] });
    for (const worker of workers) {
      ateoms.push(
        await ServiceProcess.start(`ateom ${worker.name}`, 'ateom', ateomEnv(worker), () =>
          unixSocketAccepts(ateomSocket(worker)),
        ),
      );
    }
    grpcPort = await freePort();
    httpPort = await freePort();
    ateletProcess = await startAtelet();
    client = new HerderClient(`127.0.0.1:${grpcPort}`);
  });

  afterAll(async () => {
    client?.close();
    await ateletProcess?.stop();
    const breakdowns = `${ateletLogs}${ateletProcess?.log ?? ''}`
      .split('\n')
      .filter((line) => line.includes('Restore timing breakdown'));
    // SIGTERM: each ateom deletes its sandbox and removes its network namespaces.
    for (const ateom of ateoms) await ateom.stop();
    await s3?.stop();
    tmp?.remove();
    console.log(`atelet figures (ms): ${JSON.stringify(figures)}\n${breakdowns.join('\n')}`);
  });

  const actor = (actorId: string) => ({
    actorAtespace: 'demo',
    actorTemplateNamespace: 'demo',
    actorTemplateName: 'counter',
    actorId,
  });
  const spec = (): atelet.WorkloadSpec => ({
    pauseImage: '',
    containers: [
      {
        name: 'counter',
        image: `oci:${image.layoutDir}:${image.tag}`,
        command: [],
        env: [{ name: 'TICK_MS', value: '3600000' }],
        readyz: { httpGet: { path: image.readyzPath, port: image.port } },
        volumeMounts: [{ name: 'data', mountPath: COUNTER_DURABLE_DIR }],
      },
    ],
    volumes: [
      {
        name: 'data',
        type: atelet.VolumeType.VOLUME_TYPE_DURABLE_DIR,
        source: { $case: 'durableDir', value: {} },
      },
    ],
  });
  const assets = (sha256 = runsc.sha256): atelet.SandboxAssets => ({
    sandboxClass: 'gvisor',
    assets: {
      [process.arch === 'x64' ? 'amd64' : process.arch]: { files: { runsc: { url: runsc.url, sha256 } } },
    },
  });
  const external = (uri: string) => ({
    type: EXTERNAL,
    config: { $case: 'externalConfig' as const, value: { snapshotUriPrefix: uri } },
    scope: FULL,
  });
  const local = (prefix: string) => ({
    type: LOCAL,
    config: { $case: 'localConfig' as const, value: { snapshotPrefix: prefix } },
    scope: FULL,
  });
  async function timed<T>(name: string, body: () => Promise<T>): Promise<T> {
    const began = performance.now();
    const result = await body();
    figures[name] = Math.round(performance.now() - began);
    return result;
  }

  let fileSnapshot: string;

  it('runs the counter, pauses and resumes it on the node, suspends it and restores it on another worker', async () => {
    await timed('run_cold', () =>
      client.run({ ...actor('c1'), targetAteomUid: A.uid, spec: spec(), sandboxAssets: assets() }),
    );
    expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 1, file: 1 });

    // Pause: LOCAL, on this node.
    const paused = await timed('checkpoint_local', () =>
      client.checkpoint({ ...actor('c1'), targetAteomUid: A.uid, ...local('c1-pause-1') }),
    );
    expect(paused.snapshotFiles).toEqual(expect.arrayContaining(['checkpoint.img', 'pages.img']));
    await timed('restore_local', () =>
      client.restore({ ...actor('c1'), targetAteomUid: A.uid, spec: spec(), ...local('c1-pause-1') }),
    );
    expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 2, file: 2 });

    // Suspend: EXTERNAL to file://, then restore on the other worker.
    fileSnapshot = `file://${join(tmp.path, 'snapshots')}/${newSnapshotPrefix('c1.demo')}`;
    const suspended = await timed('checkpoint_external_file', () =>
      client.checkpoint({ ...actor('c1'), targetAteomUid: A.uid, ...external(fileSnapshot) }),
    );
    expect(suspended.snapshotFiles).toEqual(paused.snapshotFiles);
    const manifest = JSON.parse(
      readFileSync(join(new URL(fileSnapshot).pathname, 'manifest.json'), 'utf8'),
    ) as {
      scope: string;
      assets: { runsc: { url: string; sha256: string } };
      snapshotFiles: string[];
    };
    expect(manifest).toMatchObject({
      scope: 'Full',
      assets: { runsc },
      snapshotFiles: suspended.snapshotFiles,
    });
    await timed('restore_external_file_other_worker', () =>
      client.restore({ ...actor('c1'), targetAteomUid: B.uid, spec: spec(), ...external(fileSnapshot) }),
    );
    const reply = await callCounter(B.ip, 80);
    expect(reply).toMatchObject({ memory: 3, file: 3 });
  });

  it("serves the actor's log on the HTTP port: lifecycle and the counter's output from both workers, in order", async () => {
    const requests = (records: ActorLogRecord[]) =>
      records.filter((r) => r.message === 'request').map((r) => r.memory);
    // The last request's line may still be on its way through ateom's pipe.
    let log = await getActorLog(httpPort, 'demo', 'c1');
    for (const deadline = Date.now() + 10_000; requests(log.records).length < 3 && Date.now() < deadline;) {
      await sleep(100);
      log = await getActorLog(httpPort, 'demo', 'c1');
    }
    expect({ status: log.status, type: log.type }).toEqual({
      status: 200,
      type: 'application/x-ndjson; charset=utf-8',
    });
    expect(log.records.filter((r) => r.stream === 'lifecycle').map((r) => r.message)).toEqual([
      'Actor starting',
      'Actor started',
      'Actor checkpointing', // Pause
      'Actor checkpointed',
      'Actor restoring',
      'Actor restored',
      'Actor checkpointing', // Suspend to file://
      'Actor checkpointed',
      'Actor restoring', // on worker B
      'Actor restored',
    ]);
    const output = log.records.filter((r) => r.stream === 'stdout');
    expect(output[0]).toMatchObject({
      message: 'counter listening on 80',
      labels: {
        'ate.dev/actor_id': 'c1',
        'ate.dev/atespace': 'demo',
        'ate.dev/actor_template_namespace': 'demo',
        'ate.dev/actor_template_name': 'counter',
        'ate.dev/container_name': 'counter',
      },
    });
    expect(requests(output)).toEqual([1, 2, 3]);
    const last = await getActorLog(httpPort, 'demo', 'c1', '?container=counter&tailLines=1');
    expect(last.records.map((r) => [r.message, r.memory])).toEqual([['request', 3]]);

    const unknown = await getActorLog(httpPort, 'demo', 'nobody');
    expect({ status: unknown.status, body: JSON.parse(unknown.body) as unknown }).toEqual({
      status: 404,
      body: { code: 'ACTOR_LOG_NOT_FOUND', message: 'no log of actor nobody in atespace demo on this node' },
    });
    const invalid = await getActorLog(httpPort, 'demo', 'Not_A_Label');
    expect({ status: invalid.status, body: JSON.parse(invalid.body) as unknown }).toEqual({
      status: 400,
      body: { code: 'INVALID_REQUEST', message: 'actor: "Not_A_Label" is not a DNS-1123 label' },
    });
  });

  it('suspends to S3 and restores from it (its log followed meanwhile)', async () => {
    const follow = await followActorLog(httpPort, 'demo', 'c1', '?tailLines=0');
    try {
      const uri = `s3://snapshots/demo-counter/${newSnapshotPrefix('c1.demo')}`;
      await timed('checkpoint_external_s3', () =>
        client.checkpoint({ ...actor('c1'), targetAteomUid: B.uid, ...external(uri) }),
      );
      await timed('restore_external_s3', () =>
        client.restore({ ...actor('c1'), targetAteomUid: A.uid, spec: spec(), ...external(uri) }),
      );
      expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 4, file: 4 });
      const followed = await follow.until((records) => records.some((r) => r.message === 'request'));
      expect(
        followed.map((r) => (r.message === 'request' ? `request ${String(r.memory)}` : r.message)),
      ).toEqual([
        'Actor checkpointing',
        'Actor checkpointed',
        'Actor restoring',
        'Actor restored',
        'request 4',
      ]);
    } finally {
      await follow.stop();
    }
  });

  it('keeps a checkpoint whose upload failed, and stores it when the Checkpoint is retried', async () => {
    const failed = await grpcFailure(
      client.checkpoint({
        ...actor('c1'),
        targetAteomUid: A.uid,
        ...external(`s3://missing-bucket/x/${newSnapshotPrefix('c1.demo')}`),
      }),
    );
    expect({ code: failed.code, details: failed.details }).toEqual({
      code: status.FAILED_PRECONDITION,
      details: expect.stringContaining('cannot store snapshot s3://missing-bucket/') as unknown,
    });
    const uri = `s3://snapshots/demo-counter/${newSnapshotPrefix('c1.demo')}`;
    const retried = await client.checkpoint({ ...actor('c1'), targetAteomUid: A.uid, ...external(uri) });
    expect(retried.snapshotFiles).toEqual(expect.arrayContaining(['checkpoint.img']));
    await client.restore({ ...actor('c1'), targetAteomUid: A.uid, spec: spec(), ...external(uri) });
    expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 5, file: 5 });
  });

  it('refuses a tampered snapshot and a runsc whose sha256 does not match, and leaves the worker usable', async () => {
    const dir = new URL(fileSnapshot).pathname;
    const pages = readdirSync(dir).find((name) => name.startsWith('pages.img'));
    if (pages === undefined) throw new Error('no pages.img.zstd in the snapshot');
    const bytes = readFileSync(join(dir, pages));
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0x5a;
    writeFileSync(join(dir, pages), bytes);
    const tampered = await grpcFailure(
      client.restore({ ...actor('c2'), targetAteomUid: B.uid, spec: spec(), ...external(fileSnapshot) }),
    );
    expect(tampered.code).toBe(status.DATA_LOSS);
    expect(tampered.details).toContain('failed verification');

    const wrong = '0'.repeat(64);
    const refused = await grpcFailure(
      client.run({ ...actor('c2'), targetAteomUid: B.uid, spec: spec(), sandboxAssets: assets(wrong) }),
    );
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(refused.details).toBe(
      `sandbox asset ${runsc.url} has sha256 ${runsc.sha256}, expected ${wrong}; refusing to use it`,
    );

    await client.run({ ...actor('c2'), targetAteomUid: B.uid, spec: spec(), sandboxAssets: assets() });
    expect(await callCounter(B.ip, 80)).toMatchObject({ memory: 1, file: 1 });
  });

  it('replaces a stale sandbox of another actor (released without a checkpoint) on Run and on Restore', async () => {
    // Worker A still runs c1 and worker B c2; the control plane has given both workers to other actors.
    await timed('run_over_stale', () =>
      client.run({ ...actor('c3'), targetAteomUid: A.uid, spec: spec(), sandboxAssets: assets() }),
    );
    expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 1, file: 1 });
    const uri = `s3://snapshots/demo-counter/${newSnapshotPrefix('c3.demo')}`;
    await client.checkpoint({ ...actor('c3'), targetAteomUid: A.uid, ...external(uri) });
    await timed('restore_over_stale', () =>
      client.restore({ ...actor('c3'), targetAteomUid: B.uid, spec: spec(), ...external(uri) }),
    );
    expect(await callCounter(B.ip, 80)).toMatchObject({ memory: 2, file: 2 });
  });

  it('runs one operation per worker at a time and validates requests', async () => {
    const first = client.run({
      ...actor('c4'),
      targetAteomUid: A.uid,
      spec: spec(),
      sandboxAssets: assets(),
    });
    const second = await grpcFailure(
      client.run({ ...actor('c5'), targetAteomUid: A.uid, spec: spec(), sandboxAssets: assets() }),
    );
    await first;
    expect(second.code).toBe(status.FAILED_PRECONDITION);
    expect(second.details).toBe(`worker ${A.name} is busy: Run refused while Run is in progress`);

    const invalid = await grpcFailure(
      client.run({ ...actor('Not_A_Label'), targetAteomUid: A.uid, spec: spec(), sandboxAssets: assets() }),
    );
    expect(invalid.code).toBe(status.INVALID_ARGUMENT);
    expect(invalid.details).toBe('actor_id: "Not_A_Label" is not a DNS-1123 label');
    const notRunning = await grpcFailure(
      client.checkpoint({ ...actor('c9'), targetAteomUid: A.uid, ...local('x') }),
    );
    expect(notRunning.code).toBe(status.FAILED_PRECONDITION);
    const unknown = await grpcFailure(
      client.checkpoint({ ...actor('c4'), targetAteomUid: 'nope', ...local('x') }),
    );
    expect(unknown.code).toBe(status.NOT_FOUND);
  });

  it('keeps what each worker runs across an atelet restart; DATA scope restarts the process over the durable dir', async () => {
    // c4 runs on worker A (the busy test started it).
    expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 1, file: 1 });
    expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 2, file: 2 });
    ateletLogs += ateletProcess?.log ?? '';
    await ateletProcess?.stop();
    client.close();
    ateletProcess = await startAtelet();
    client = new HerderClient(`127.0.0.1:${grpcPort}`);
    const uri = `s3://snapshots/demo-counter/${newSnapshotPrefix('c4.demo')}`;
    const data = { ...external(uri), scope: atelet.SnapshotScope.SNAPSHOT_SCOPE_DATA };
    await client.checkpoint({ ...actor('c4'), targetAteomUid: A.uid, ...data });
    await client.restore({ ...actor('c4'), targetAteomUid: B.uid, spec: spec(), ...data });
    expect(await callCounter(B.ip, 80)).toMatchObject({ memory: 1, file: 3 });
  });

  it('restores a FULL snapshot over a rootfs unpacked afresh (another node: empty caches)', async () => {
    // c4 runs on worker B. The new atelet keeps its worker records but has no image or runsc cached.
    const uri = `s3://snapshots/demo-counter/${newSnapshotPrefix('c4.demo')}`;
    await client.checkpoint({ ...actor('c4'), targetAteomUid: B.uid, ...external(uri) });
    const records = join(root, 'atelet', 'workers');
    ateletLogs += ateletProcess?.log ?? '';
    await ateletProcess?.stop();
    client.close();
    const fresh = join(tmp.path, 'other-node-cache');
    mkdirSync(fresh, { recursive: true });
    cpSync(records, join(fresh, 'workers'), { recursive: true });
    ateletProcess = await startAtelet(fresh);
    client = new HerderClient(`127.0.0.1:${grpcPort}`);
    await timed('restore_external_s3_cold_caches', () =>
      client.restore({ ...actor('c4'), targetAteomUid: A.uid, spec: spec(), ...external(uri) }),
    );
    expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 2, file: 4 });
    expect(readdirSync(join(fresh, 'rootfs'))).toHaveLength(1);
  });

  it('runs on a worker whose ateom was killed and restarted', async () => {
    // Worker A runs c4; its ateom dies and a new one takes the worker over (deleting the orphan sandbox).
    const index = workers.indexOf(A);
    await ateoms[index]?.kill();
    ateoms[index] = await ServiceProcess.start(`ateom ${A.name}`, 'ateom', ateomEnv(A), () =>
      unixSocketAccepts(ateomSocket(A)),
    );
    await client.run({ ...actor('c6'), targetAteomUid: A.uid, spec: spec(), sandboxAssets: assets() });
    expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 1, file: 1 });
  });

  it('stops the sandbox of an actor on one worker when the actor starts on another', async () => {
    // c6 runs on worker A; the control plane moves it to worker B.
    await client.run({ ...actor('c6'), targetAteomUid: B.uid, spec: spec(), sandboxAssets: assets() });
    expect(await callCounter(B.ip, 80)).toMatchObject({ memory: 1, file: 1 });
    const gone = await grpcFailure(
      client.checkpoint({ ...actor('c6'), targetAteomUid: A.uid, ...local('c6-x') }),
    );
    expect({ code: gone.code, details: gone.details }).toEqual({
      code: status.FAILED_PRECONDITION,
      details: `worker ${A.name}: no actor is running, cannot checkpoint demo:demo:counter:c6`,
    });
    await client.run({ ...actor('c7'), targetAteomUid: A.uid, spec: spec(), sandboxAssets: assets() });
    expect(await callCounter(A.ip, 80)).toMatchObject({ memory: 1, file: 1 });
  });
});
