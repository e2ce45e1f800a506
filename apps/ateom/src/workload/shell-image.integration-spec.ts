// The shell image from tools/images (Node.js over busybox, upstream's sandbox demo), run by ateom with
// real runsc: commands POSTed to /process run in the sandbox, and files they write in the rootfs survive
// a FULL checkpoint and restore.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type INestMicroservice } from '@nestjs/common';
import { buildImage } from '@substrate/images';
import { ateom } from '@substrate/proto';
import { describeWithComponents, requireTool, tempDir } from '@substrate/testing';
import {
  ATEOM_COMPONENTS,
  AteomTestClient,
  ateomConfig,
  contentAddressedRunsc,
  httpPostJson,
  keepSnapshot,
  pathsOf,
  prepareBundle,
  stageSnapshot,
} from '../../test/ateom-harness';
import { type AteomConfig } from '../config';
import { endpointAddresses } from '../sandbox';
import { createAteomServer } from '../server';
import { type ActorRef } from './workload-request';

describeWithComponents([...ATEOM_COMPONENTS, 'busybox'], 'ateom runs the busybox shell image', () => {
  const suffix = (process.pid % 100_000).toString(36);
  const endpointIndex = 500 + (process.pid % 1_000);
  const host = endpointAddresses(endpointIndex).endpoint;
  let tmp: { path: string; remove: () => void };
  let config: AteomConfig;
  let app: INestMicroservice | undefined;
  let client: AteomTestClient;

  beforeAll(async () => {
    tmp = tempDir('ateom-shell');
    config = ateomConfig(join(tmp.path, 'node'), `sh${suffix}`, endpointIndex);
    app = await createAteomServer(config, false);
    await app.listen();
    client = new AteomTestClient(config.socket);
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
    tmp.remove();
  });

  it('runs POSTed commands and keeps rootfs writes across checkpoint and restore', async () => {
    const image = await buildImage('shell');
    const bundle = join(tmp.path, 'bundle');
    execFileSync(requireTool('umoci'), ['unpack', '--image', `${image.layoutDir}:${image.tag}`, bundle]);
    const actor: ActorRef = {
      atespace: 'demo',
      templateNamespace: 'demo',
      templateName: 'shell',
      actorId: 'sh-1',
    };
    const paths = pathsOf(config, actor);
    const unpacked = {
      rootfs: join(bundle, 'rootfs'),
      config: readFileSync(join(bundle, 'config.json'), 'utf8'),
    };
    prepareBundle(paths, 'shell', unpacked);
    const request = {
      actorAtespace: actor.atespace,
      actorTemplateNamespace: actor.templateNamespace,
      actorTemplateName: actor.templateName,
      actorId: actor.actorId,
      runscPath: contentAddressedRunsc(join(tmp.path, 'static-files')),
      spec: {
        containers: [
          {
            name: 'shell',
            readyz: { httpGet: { path: '/readyz', port: image.port } },
            durableDirVolumes: [],
          },
        ],
      },
    };
    await client.run(request);
    const sh = (script: string) =>
      httpPostJson(host, image.port, '/process', { command: ['sh', '-c', script] });
    expect(await sh('echo Hello > /test.txt; cat /run/ate/actor-id')).toEqual({
      stdout: 'sh-1',
      stderr: '',
      exitCode: 0,
    });
    const { snapshotFiles } = await client.checkpoint({
      ...request,
      scope: ateom.SnapshotScope.SNAPSHOT_SCOPE_FULL,
    });
    expect(snapshotFiles).toEqual(['checkpoint.img', 'pages.img', 'pages_meta.img']);
    stageSnapshot(paths, keepSnapshot(paths, snapshotFiles, join(tmp.path, 'snap')));
    await client.restore({ ...request, scope: ateom.SnapshotScope.SNAPSHOT_SCOPE_FULL });
    expect(await sh('cat /test.txt; ls /nonexistent')).toMatchObject({
      stdout: 'Hello\n',
      stderr: expect.stringContaining('nonexistent') as unknown,
      exitCode: 1,
    });
    await client.checkpoint({ ...request, scope: ateom.SnapshotScope.SNAPSHOT_SCOPE_FULL });
  });
});
