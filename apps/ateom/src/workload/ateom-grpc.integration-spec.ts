// ateom.Ateom over its unix socket with real runsc: the contract atelet relies on (one operation at a
// time, field-named validation errors, pinned runsc), actor identity per restore, the actor log, and a
// clean shutdown.
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { type INestMicroservice } from '@nestjs/common';
import { ateom } from '@substrate/proto';
import { describeWithComponents, requireTool, tempDir } from '@substrate/testing';
import {
  ATEOM_COMPONENTS,
  AteomTestClient,
  ateomConfig,
  callCounter,
  contentAddressedRunsc,
  grpcFailure,
  httpGet,
  keepSnapshot,
  pathsOf,
  prepareBundle,
  stageSnapshot,
  unpackedCounter,
} from '../../test/ateom-harness';
import { actorLogPath } from '../actor-log/actor-log';
import { type AteomConfig } from '../config';
import { NetnsManager, RunscDriver, endpointAddresses } from '../sandbox';
import { createAteomServer } from '../server';
import { type ActorRef } from './workload-request';

const FULL = ateom.SnapshotScope.SNAPSHOT_SCOPE_FULL;

describeWithComponents(ATEOM_COMPONENTS, 'ateom gRPC service on its unix socket', () => {
  const suffix = (process.pid % 100_000).toString(36);
  const endpointIndex = 4_000 + (process.pid % 2_000);
  const host = endpointAddresses(endpointIndex).endpoint;
  let tmp: { path: string; remove: () => void };
  let config: AteomConfig;
  let app: INestMicroservice | undefined;
  let client: AteomTestClient;
  let unpacked: Awaited<ReturnType<typeof unpackedCounter>>;
  let runscPath: string;

  beforeAll(async () => {
    tmp = tempDir('ateom-grpc');
    unpacked = await unpackedCounter(join(tmp.path, 'image'));
    runscPath = contentAddressedRunsc(join(tmp.path, 'static-files'));
    config = ateomConfig(join(tmp.path, 'node'), `gr${suffix}`, endpointIndex, {
      ATEOM_LOG_MAX_BYTES: '65536',
    });
    app = await createAteomServer(config, false);
    await app.listen();
    client = new AteomTestClient(config.socket);
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
    tmp.remove();
  });

  const golden: ActorRef = {
    atespace: 'ate-golden',
    templateNamespace: 'demo',
    templateName: 'counter',
    actorId: 'golden-1',
  };
  const alpha: ActorRef = {
    atespace: 'demo',
    templateNamespace: 'demo',
    templateName: 'counter',
    actorId: 'alpha',
  };
  const beta: ActorRef = {
    atespace: 'demo',
    templateNamespace: 'demo',
    templateName: 'counter',
    actorId: 'beta',
  };

  function request(actor: ActorRef, overrides: Partial<ateom.RunWorkloadRequest> = {}) {
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
            readyz: { httpGet: { path: '/readyz', port: 80 } },
            durableDirVolumes: ['/home/counter'],
          },
        ],
      },
      ...overrides,
    };
  }

  it('refuses a second operation while one is in flight with FAILED_PRECONDITION', async () => {
    prepareBundle(pathsOf(config, golden), 'counter', unpacked);
    const running = client.run(request(golden));
    const second = await grpcFailure(client.restore({ ...request(golden), scope: FULL }));
    expect(second.code).toBe(status.FAILED_PRECONDITION);
    expect(second.details).toBe(
      `worker gr${suffix}: cannot RestoreWorkload while RunWorkload is in progress`,
    );
    await running;
    expect(await callCounter(host, 80)).toMatchObject({ memory: 1, file: 1 });
    // Running already: a second Run does not fit the state.
    const again = await grpcFailure(client.run(request(golden)));
    expect(again.code).toBe(status.FAILED_PRECONDITION);
    expect(again.details).toBe(
      `worker gr${suffix}: cannot RunWorkload when the sandbox is running actor ate-golden:demo:counter:golden-1`,
    );
    // The refused call left the running actor and its durable dir alone.
    expect(await callCounter(host, 80)).toMatchObject({ memory: 2, file: 2 });
  });

  it('restores two actors from one golden snapshot, each reading its own id', async () => {
    const { snapshotFiles } = await client.checkpoint({ ...request(golden), scope: FULL });
    const snapshot = keepSnapshot(pathsOf(config, golden), snapshotFiles, join(tmp.path, 'snap', 'golden'));
    for (const actor of [alpha, beta]) {
      prepareBundle(pathsOf(config, actor), 'counter', unpacked);
      stageSnapshot(pathsOf(config, actor), snapshot);
      await client.restore({ ...request(actor), scope: FULL });
      expect(await httpGet(host, 80, '/id')).toBe(actor.actorId);
      expect(await callCounter(host, 80)).toMatchObject({ memory: 3, file: 3 });
      await client.checkpoint({ ...request(actor), scope: FULL });
    }
  });

  it('answers INVALID_ARGUMENT naming the field', async () => {
    const cases: [Partial<ateom.RunWorkloadRequest>, string][] = [
      [{ actorId: '' }, 'invalid actor_id: is required'],
      [{ spec: { containers: [] } }, 'invalid spec.containers: at least one container is required'],
      [
        {
          spec: {
            containers: [
              { name: 'c', readyz: { httpGet: { path: '/', port: 70_000 } }, durableDirVolumes: [] },
            ],
          },
        },
        'invalid spec.containers[0].readyz.http_get.port: must be 1-65535, got 70000',
      ],
      [
        { runscPath: requireTool('runsc') },
        `invalid runsc_path: ${JSON.stringify(requireTool('runsc'))} must name a content-addressed binary runsc-<sha256>`,
      ],
    ];
    for (const [overrides, message] of cases) {
      const error = await grpcFailure(client.run(request(alpha, overrides)));
      expect({ code: error.code, details: error.details }).toEqual({
        code: status.INVALID_ARGUMENT,
        details: message,
      });
    }
    const noScope = await grpcFailure(client.checkpoint(request(alpha)));
    expect(noScope.details).toBe(
      'invalid scope: must be SNAPSHOT_SCOPE_FULL or SNAPSHOT_SCOPE_DATA, got SNAPSHOT_SCOPE_UNSPECIFIED',
    );
  });

  it('refuses a runsc binary whose sha256 is not the pinned one, and stays free', async () => {
    const wrong = join(tmp.path, 'static-files', `runsc-${'0'.repeat(64)}`);
    symlinkSync(requireTool('runsc'), wrong);
    const error = await grpcFailure(client.run(request(alpha, { runscPath: wrong })));
    expect(error.code).toBe(status.FAILED_PRECONDITION);
    expect(error.details).toMatch(
      new RegExp(`^refusing runtime binary ${wrong}: its sha256 is [0-9a-f]{64}, expected 0{64}$`),
    );
    // Nothing ran; the worker takes the next request.
    await client.run(request(alpha));
    expect(await callCounter(host, 80)).toMatchObject({ memory: 1, file: 1 });
    await client.checkpoint({ ...request(alpha), scope: FULL });
  });

  it('answers FAILED_PRECONDITION when atelet has not prepared the bundle or the snapshot', async () => {
    const stranger: ActorRef = { ...alpha, actorId: 'stranger' };
    const noBundle = await grpcFailure(client.run(request(stranger)));
    expect(noBundle.code).toBe(status.FAILED_PRECONDITION);
    expect(noBundle.details).toBe(
      `bundle config.json not found at ${join(pathsOf(config, stranger).bundle('counter'), 'config.json')}`,
    );
    prepareBundle(pathsOf(config, stranger), 'counter', unpacked);
    const noSnapshot = await grpcFailure(client.restore({ ...request(stranger), scope: FULL }));
    expect(noSnapshot.details).toBe(
      `FULL snapshot (checkpoint.img) not found at ${pathsOf(config, stranger).restoreDir}`,
    );
  });

  it("writes the actor's output and lifecycle to its log as labelled JSON lines", () => {
    const path = actorLogPath(config.logs.dir, alpha);
    const records = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            message: string;
            stream: string;
            memory?: number;
            labels: Record<string, string>;
          },
      );
    const labels = {
      'ate.dev/actor_id': 'alpha',
      'ate.dev/atespace': 'demo',
      'ate.dev/actor_template_namespace': 'demo',
      'ate.dev/actor_template_name': 'counter',
    };
    const lifecycle = records.filter((r) => r.stream === 'lifecycle').map((r) => r.message);
    expect(lifecycle).toEqual([
      'Actor restoring',
      'Actor restored',
      'Actor checkpointing',
      'Actor checkpointed',
      'Actor starting',
      'Actor started',
      'Actor checkpointing',
      'Actor checkpointed',
    ]);
    // The counter's JSON request lines, after the restore (memory 3) and after the cold boot (memory 1).
    const requests = records.filter((r) => r.message === 'request');
    expect(requests.map((r) => [r.memory, r.stream])).toEqual([
      [3, 'stdout'],
      [1, 'stdout'],
    ]);
    expect(requests[0]?.labels).toEqual({ ...labels, 'ate.dev/container_name': 'counter' });
    // A plain line from the cold boot.
    expect(records).toContainEqual(
      expect.objectContaining({ message: 'counter listening on 80', stream: 'stdout' }),
    );
  });

  it('removes its socket, sandbox and network on shutdown', async () => {
    prepareBundle(pathsOf(config, beta), 'counter', unpacked);
    await client.run(request(beta));
    expect(existsSync(config.socket)).toBe(true);
    await app?.close();
    app = undefined;
    expect(existsSync(config.socket)).toBe(false);
    expect(new NetnsManager({ ip: requireTool('ip') }).exists(config.worker)).toBe(false);
    const driver = new RunscDriver({
      runsc: requireTool('runsc'),
      stateDir: join(config.workDir, 'runsc-state'),
      procSysNetWorkaround: false,
    });
    expect(await driver.state('actor')).toBeUndefined();
    await expect(httpGet(host, 80, '/readyz')).rejects.toThrow();
  });
});
