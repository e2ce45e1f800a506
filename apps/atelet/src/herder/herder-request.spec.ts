import { atelet } from '@substrate/proto';
import { parseCheckpointRequest, parseRestoreRequest, parseRunRequest } from './herder-request';

const container = (over: Partial<atelet.Container> = {}): atelet.Container =>
  atelet.Container.fromPartial({ name: 'app', image: 'oci:/images/app:latest', ...over });
const run = (over: Partial<atelet.RunRequest> = {}) =>
  atelet.RunRequest.fromPartial({
    targetAteomUid: 'w0',
    actorTemplateNamespace: 'demo',
    actorTemplateName: 'counter.v1',
    actorId: 'a1',
    spec: { containers: [container()] },
    sandboxAssets: {
      sandboxClass: 'gvisor',
      assets: { amd64: { files: { runsc: { url: 'file:///r', sha256: 'a'.repeat(64) } } } },
    },
    ...over,
  });
const checkpoint = (over: Partial<atelet.CheckpointRequest> = {}) =>
  atelet.CheckpointRequest.fromPartial({
    targetAteomUid: 'w0',
    actorTemplateNamespace: 'demo',
    actorTemplateName: 'counter',
    actorId: 'a1',
    type: atelet.CheckpointType.CHECKPOINT_TYPE_EXTERNAL,
    config: {
      $case: 'externalConfig',
      value: {
        snapshotUriPrefix: 's3://bucket/loc/a1.demo/2026-05-22T21:49:15.120Z-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      },
    },
    scope: atelet.SnapshotScope.SNAPSHOT_SCOPE_FULL,
    ...over,
  });

describe('atelet request validation (docs/protocol.md)', () => {
  it('accepts a valid Run and keeps what atelet needs', () => {
    const parsed = parseRunRequest(run({ actorAtespace: 'demo' }));
    expect(parsed.actor).toEqual({
      atespace: 'demo',
      templateNamespace: 'demo',
      templateName: 'counter.v1',
      actorId: 'a1',
    });
    expect(parsed.spec.containers[0]).toMatchObject({ name: 'app', command: [], durableDirMounts: [] });
  });

  it('keeps every container and the pause image of a multi-container spec', () => {
    const parsed = parseRunRequest(
      run({
        spec: {
          containers: [container(), container({ name: 'side', image: 'oci:/images/side:latest' })],
          pauseImage: 'oci:/images/pause:p',
          volumes: [],
        },
      }),
    );
    expect(parsed.spec.pauseImage).toBe('oci:/images/pause:p');
    expect(parsed.spec.containers.map((c) => [c.name, c.image])).toEqual([
      ['app', 'oci:/images/app:latest'],
      ['side', 'oci:/images/side:latest'],
    ]);
  });

  it.each([
    [{ actorTemplateNamespace: 'Demo' }, 'actor_template_namespace: "Demo" is not a DNS-1123 label'],
    [{ actorTemplateName: 'a_b' }, 'actor_template_name: "a_b" is not a DNS-1123 subdomain'],
    [{ actorId: '' }, 'actor_id: is required'],
    [{ targetAteomUid: 'W0' }, 'target_ateom_uid: "W0" is not a DNS-1123 label'],
    [
      {
        actorTemplateName: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(60)}`,
        actorId: 'x'.repeat(10),
      },
      'actor_id: actor_template_namespace:actor_template_name:actor_id is longer than 255 bytes',
    ],
    [
      { spec: { containers: [container({ name: 'pause' })], pauseImage: '', volumes: [] } },
      'spec.containers[0].name: "pause" is reserved',
    ],
    [
      { spec: { containers: [container(), container()], pauseImage: 'oci:/images/pause:p', volumes: [] } },
      'spec.containers[1].name: duplicate container name "app"',
    ],
    [
      { spec: { containers: [container(), container({ name: 'side' })], pauseImage: '', volumes: [] } },
      "spec.pause_image: is required with more than one container (the sandbox's root), got 2 containers",
    ],
    [
      {
        spec: {
          containers: [container({ volumeMounts: [{ name: 'data', mountPath: '/d' }] })],
          pauseImage: '',
          volumes: [],
        },
      },
      'spec.containers[0].volume_mounts[0].name: no volume named "data" in spec.volumes',
    ],
    [
      {
        sandboxAssets: {
          sandboxClass: 'gvisor',
          assets: { amd64: { files: { runsc: { url: 'file:///r', sha256: 'ABC' } } } },
        },
      },
      'sandbox_assets.assets[amd64].files[runsc].sha256: "ABC" is not 64 lower-case hex characters',
    ],
  ])('refuses %j', (over, message) => {
    expect(() => parseRunRequest(run(over as Partial<atelet.RunRequest>))).toThrow(message);
  });

  it('checks checkpoint and restore targets and scopes', () => {
    expect(parseCheckpointRequest(checkpoint()).target).toMatchObject({ kind: 'external' });
    expect(() =>
      parseCheckpointRequest(checkpoint({ scope: atelet.SnapshotScope.SNAPSHOT_SCOPE_UNSPECIFIED })),
    ).toThrow('scope: must be SNAPSHOT_SCOPE_FULL or SNAPSHOT_SCOPE_DATA, got SNAPSHOT_SCOPE_UNSPECIFIED');
    const ext = (uri: string) =>
      checkpoint({ config: { $case: 'externalConfig', value: { snapshotUriPrefix: uri } } });
    expect(() => parseCheckpointRequest(ext('gs:///path'))).toThrow('has no host (bucket)');
    expect(() => parseCheckpointRequest(ext('s3://user@bucket/p'))).toThrow('must not carry user info');
    expect(() => parseCheckpointRequest(ext('s3://bucket/p?x=1'))).toThrow('must not carry a query');
    expect(() => parseCheckpointRequest(ext('s3://bucket/p#f'))).toThrow('must not carry a fragment');
    const localReq = (prefix: string) =>
      checkpoint({
        type: atelet.CheckpointType.CHECKPOINT_TYPE_LOCAL,
        config: { $case: 'localConfig', value: { snapshotPrefix: prefix } },
      });
    expect(parseCheckpointRequest(localReq('a1-20261130T093015123Z-ABC')).target).toEqual({
      kind: 'local',
      prefix: 'a1-20261130T093015123Z-ABC',
    });
    expect(() => parseCheckpointRequest(localReq(''))).toThrow('local_config.snapshot_prefix: is required');
    expect(() => parseCheckpointRequest(localReq('../x'))).toThrow('must be a plain directory name');
    expect(() =>
      parseCheckpointRequest(checkpoint({ type: atelet.CheckpointType.CHECKPOINT_TYPE_LOCAL })),
    ).toThrow('local_config: is required for CHECKPOINT_TYPE_LOCAL');
    expect(() =>
      parseRestoreRequest(atelet.RestoreRequest.fromPartial({ ...checkpoint(), spec: { containers: [] } })),
    ).toThrow('spec.containers: at least one container is required');
  });
});
