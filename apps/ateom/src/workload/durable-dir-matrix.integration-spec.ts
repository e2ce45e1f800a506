// The DurableDir matrix of upstream's e2e (reference §7.3), through ateom's gRPC API with real runsc:
// a golden snapshot taken with the onCommit scope, then resume → call → pause (onPause) → resume → call
// → suspend (onCommit) → resume → call, with upstream's exact memory / file counts.
import { join } from 'node:path';
import { type INestMicroservice } from '@nestjs/common';
import { ateom } from '@substrate/proto';
import { describeWithComponents, tempDir } from '@substrate/testing';
import {
  ATEOM_COMPONENTS,
  AteomTestClient,
  ateomConfig,
  callCounter,
  contentAddressedRunsc,
  keepSnapshot,
  pathsOf,
  prepareBundle,
  stageSnapshot,
  unpackedCounter,
} from '../../test/ateom-harness';
import { type AteomConfig } from '../config';
import { endpointAddresses } from '../sandbox';
import { createAteomServer } from '../server';
import { type ActorRef } from './workload-request';

const { SNAPSHOT_SCOPE_FULL: FULL, SNAPSHOT_SCOPE_DATA: DATA } = ateom.SnapshotScope;

describeWithComponents(ATEOM_COMPONENTS, 'ateom DurableDir matrix (onCommit / onPause)', () => {
  const suffix = (process.pid % 100_000).toString(36);
  const endpointIndex = 6_000 + (process.pid % 2_000);
  const host = endpointAddresses(endpointIndex).endpoint;
  let tmp: { path: string; remove: () => void };
  let config: AteomConfig;
  let app: INestMicroservice | undefined;
  let client: AteomTestClient;
  let unpacked: Awaited<ReturnType<typeof unpackedCounter>>;
  let runscPath: string;
  const figures: Record<string, number[]> = {};
  const record = (name: string, ms: number) => (figures[name] ??= []).push(Math.round(ms));

  beforeAll(async () => {
    tmp = tempDir('ateom-matrix');
    unpacked = await unpackedCounter(join(tmp.path, 'image'));
    runscPath = contentAddressedRunsc(join(tmp.path, 'static-files'));
    config = ateomConfig(join(tmp.path, 'node'), `dm${suffix}`, endpointIndex);
    app = await createAteomServer(config, process.env['ATEOM_TEST_LOG'] ? undefined : false);
    await app.listen();
    client = new AteomTestClient(config.socket);
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
    console.log(`ateom matrix figures (ms): ${JSON.stringify(figures)}`);
    tmp.remove();
  });

  const port = 80;
  const spec = (): ateom.WorkloadSpec => ({
    containers: [
      {
        name: 'counter',
        readyz: { httpGet: { path: '/readyz', port } },
        durableDirVolumes: ['/home/counter'],
      },
    ],
  });

  function identity(actor: ActorRef) {
    return {
      actorAtespace: actor.atespace,
      actorTemplateNamespace: actor.templateNamespace,
      actorTemplateName: actor.templateName,
      actorId: actor.actorId,
      runscPath,
      spec: spec(),
    };
  }

  async function timed<T>(name: string, body: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await body();
    record(name, performance.now() - started);
    return result;
  }

  /** Checkpoint with `scope`, and keep the files as atelet would. */
  async function checkpoint(actor: ActorRef, scope: ateom.SnapshotScope, name: string): Promise<string> {
    const { snapshotFiles } = await timed(`checkpoint_${ateom.snapshotScopeToJSON(scope)}`, () =>
      client.checkpoint({ ...identity(actor), scope }),
    );
    if (scope === FULL)
      expect(snapshotFiles).toEqual(['checkpoint.img', 'durable-dirs.tar', 'pages.img', 'pages_meta.img']);
    else expect(snapshotFiles).toEqual(['durable-dirs.tar']);
    return keepSnapshot(pathsOf(config, actor), snapshotFiles, join(tmp.path, 'snapshots', name));
  }

  async function restore(actor: ActorRef, snapshot: string, scope: ateom.SnapshotScope): Promise<void> {
    const paths = pathsOf(config, actor);
    prepareBundle(paths, 'counter', unpacked);
    stageSnapshot(paths, snapshot);
    await timed(`restore_${ateom.snapshotScopeToJSON(scope)}`, () =>
      client.restore({ ...identity(actor), scope }),
    );
  }

  it.each([
    {
      onCommit: 'Full',
      onPause: 'Full',
      commit: FULL,
      pause: FULL,
      afterPause: [2, 2],
      afterSuspend: [3, 3],
    },
    {
      onCommit: 'Data',
      onPause: 'Full',
      commit: DATA,
      pause: FULL,
      afterPause: [2, 2],
      afterSuspend: [1, 3],
    },
    {
      onCommit: 'Data',
      onPause: 'Data',
      commit: DATA,
      pause: DATA,
      afterPause: [1, 2],
      afterSuspend: [1, 3],
    },
  ] as const)(
    'onCommit=$onCommit onPause=$onPause: mem/file $afterPause after pause, $afterSuspend after suspend',
    async ({
      onCommit: commitName,
      onPause: pauseName,
      commit: onCommit,
      pause: onPause,
      afterPause,
      afterSuspend,
    }) => {
      const template = `counter-${commitName}-${pauseName}`.toLowerCase();
      const golden: ActorRef = {
        atespace: 'ate-golden',
        templateNamespace: 'demo',
        templateName: template,
        actorId: 'golden',
      };
      const actor: ActorRef = {
        atespace: 'demo',
        templateNamespace: 'demo',
        templateName: template,
        actorId: 'counter-1',
      };

      // The golden snapshot: a cold boot, checkpointed with the onCommit scope.
      prepareBundle(pathsOf(config, golden), 'counter', unpacked);
      await timed('cold_boot', () => client.run(identity(golden)));
      const goldenSnapshot = await checkpoint(golden, onCommit, `${template}-golden`);

      // First resume from the golden snapshot (onCommit scope).
      await restore(actor, goldenSnapshot, onCommit);
      expect(await callCounter(host, port)).toMatchObject({ from: '169.254.17.2', memory: 1, file: 1 });

      // Pause (LOCAL, onPause scope) and resume.
      const paused = await checkpoint(actor, onPause, `${template}-pause`);
      await restore(actor, paused, onPause);
      expect(await callCounter(host, port)).toMatchObject({ memory: afterPause[0], file: afterPause[1] });

      // Suspend (EXTERNAL, onCommit scope) and resume.
      const suspended = await checkpoint(actor, onCommit, `${template}-suspend`);
      await restore(actor, suspended, onCommit);
      expect(await callCounter(host, port)).toMatchObject({ memory: afterSuspend[0], file: afterSuspend[1] });

      // Free the worker for the next case.
      await client.checkpoint({ ...identity(actor), scope: FULL });
    },
  );
});
