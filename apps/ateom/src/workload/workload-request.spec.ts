import { ateom } from '@substrate/proto';
import { InvalidRequestError } from '../sandbox';
import {
  actorKey,
  actorPaths,
  durableDirName,
  durableDirsOf,
  parseWorkloadRequest,
  validateMountPath,
} from './workload-request';

const valid = (): ateom.CheckpointWorkloadRequest =>
  ateom.CheckpointWorkloadRequest.fromPartial({
    actorTemplateNamespace: 'demo',
    actorTemplateName: 'counter.v1',
    actorId: 'counter-1',
    actorAtespace: 'team-a',
    runscPath: `/var/lib/substrate/static-files/runsc-${'a'.repeat(64)}`,
    scope: ateom.SnapshotScope.SNAPSHOT_SCOPE_DATA,
    spec: {
      containers: [
        {
          name: 'counter',
          readyz: { httpGet: { path: 'readyz', port: 80 } },
          durableDirVolumes: ['/home/counter'],
        },
      ],
    },
  });

function fieldOf(request: ateom.CheckpointWorkloadRequest): string | undefined {
  try {
    parseWorkloadRequest(request);
  } catch (error) {
    if (error instanceof InvalidRequestError) return error.field;
    throw error;
  }
  return undefined;
}

describe('workload requests', () => {
  it('turns a valid request into the actor, container, readiness and scope', () => {
    expect(parseWorkloadRequest(valid())).toEqual({
      actor: {
        atespace: 'team-a',
        templateNamespace: 'demo',
        templateName: 'counter.v1',
        actorId: 'counter-1',
      },
      runscPath: `/var/lib/substrate/static-files/runsc-${'a'.repeat(64)}`,
      containers: [
        {
          name: 'counter',
          readiness: { port: 80, path: '/readyz' },
          durableDirs: ['/home/counter'],
        },
      ],
      scope: 'data',
    });
  });

  it('defaults the readiness path to /readyz and takes no scope from a RunWorkload request', () => {
    const { actorTemplateNamespace, actorTemplateName, actorId, actorAtespace, runscPath } = valid();
    const run = ateom.RunWorkloadRequest.fromPartial({
      actorTemplateNamespace,
      actorTemplateName,
      actorId,
      actorAtespace,
      runscPath,
      spec: { containers: [{ name: 'c', readyz: { httpGet: { path: '', port: 8080 } } }] },
    });
    const parsed = parseWorkloadRequest(run);
    expect(parsed.containers[0]?.readiness).toEqual({ port: 8080, path: '/readyz' });
    expect(parsed.scope).toBeUndefined();
  });

  it.each<[string, (r: ateom.CheckpointWorkloadRequest, c: ateom.Container) => void]>([
    ['actor_id', (r) => (r.actorId = '')],
    ['actor_id', (r) => (r.actorId = 'Counter_1')],
    ['actor_template_namespace', (r) => (r.actorTemplateNamespace = '../etc')],
    ['actor_template_name', (r) => (r.actorTemplateName = 'a/b')],
    ['actor_atespace', (r) => (r.actorAtespace = 'x:y')],
    ['runsc_path', (r) => (r.runscPath = 'relative/runsc')],
    ['scope', (r) => (r.scope = ateom.SnapshotScope.SNAPSHOT_SCOPE_UNSPECIFIED)],
    ['spec.containers', (r) => (r.spec = { containers: [] })],
    ['spec.containers[0].name', (_r, c) => (c.name = 'pause')],
    ['spec.containers[0].readyz.http_get.port', (_r, c) => (c.readyz = { httpGet: { path: '', port: 0 } })],
    ['spec.containers[0].durable_dir_volumes[0]', (_r, c) => (c.durableDirVolumes = ['/a/../b'])],
    [
      'spec.containers[1].name',
      (r, c) => r.spec?.containers.push(ateom.Container.fromPartial({ name: c.name })),
    ],
    [
      'spec.containers[1].readyz.http_get.port',
      (r) =>
        r.spec?.containers.push(
          ateom.Container.fromPartial({ name: 'side', readyz: { httpGet: { path: '', port: 70_000 } } }),
        ),
    ],
  ])('names the field %s when it is invalid', (field, spoil) => {
    const request = valid();
    const [container] = request.spec?.containers ?? [];
    if (container === undefined) throw new Error('valid() has a container');
    spoil(request, container);
    expect(fieldOf(request)).toBe(field);
  });

  it('keeps every container in spec order, and each durable dir once however many containers mount it', () => {
    const request = valid();
    request.spec?.containers.push(
      ateom.Container.fromPartial({
        name: 'sidecar',
        readyz: { httpGet: { path: '/ok', port: 81 } },
        durableDirVolumes: ['/home/sidecar', '/home/counter'],
      }),
      ateom.Container.fromPartial({ name: 'worker' }),
    );
    const parsed = parseWorkloadRequest(request);
    expect(parsed.containers).toEqual([
      { name: 'counter', readiness: { port: 80, path: '/readyz' }, durableDirs: ['/home/counter'] },
      {
        name: 'sidecar',
        readiness: { port: 81, path: '/ok' },
        durableDirs: ['/home/sidecar', '/home/counter'],
      },
      { name: 'worker', durableDirs: [] },
    ]);
    expect(durableDirsOf(parsed.containers)).toEqual(['/home/counter', '/home/sidecar']);
  });

  it.each(['/', 'relative', '/a/', '/a//b', '/a/./b', '/a:b', '/a\nb'])(
    'refuses the mount path %j',
    (path) => {
      expect(() => validateMountPath('f', path)).toThrow(InvalidRequestError);
    },
  );

  it('keys the actor directory like upstream, with the atespace in front when there is one', () => {
    const actor = { atespace: '', templateNamespace: 'ns', templateName: 't', actorId: 'a' };
    expect(actorKey(actor)).toBe('ns:t:a');
    expect(actorKey({ ...actor, atespace: 'as' })).toBe('as:ns:t:a');
    const paths = actorPaths('/node/actors', { ...actor, atespace: 'as' });
    expect(paths.bundle('web')).toBe('/node/actors/as:ns:t:a/bundles/web');
    expect(paths.restoreDir).toBe('/node/actors/as:ns:t:a/restore-state');
    expect(paths.durableDir('/home/counter')).toBe('/node/actors/as:ns:t:a/durable-dir/home%2Fcounter');
    expect(durableDirName('/data')).toBe('data');
  });
});
