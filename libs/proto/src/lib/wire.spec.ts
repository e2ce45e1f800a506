// Wire compatibility at the byte level: messages encoded by the generated code carry upstream's field
// numbers and wire types (checked with an independent wire reader), and bytes hand-encoded the way
// upstream's Go code encodes them decode into the expected values.
import { ateapi, atelet, ateom } from '../index';
import {
  encode,
  fieldLayout,
  message,
  only,
  payload,
  readFields,
  text,
  WireType,
} from '../../test/wire-format';

const { VARINT, LEN } = WireType;

function bytesOf<T>(fns: { encode(message: T): { finish(): Uint8Array } }, value: T): Uint8Array {
  return fns.encode(value).finish();
}

/** An actor with every field set to a non-default value. */
const FULL_ACTOR: ateapi.Actor = {
  actorId: 'alpha',
  version: 7,
  actorTemplateNamespace: 'default',
  actorTemplateName: 'counter',
  status: ateapi.Actor_Status.STATUS_PAUSED,
  ateomPodNamespace: 'workers',
  ateomPodName: 'pool-a-0',
  ateomPodIp: '127.0.0.9',
  inProgressSnapshot: 'alpha-2026-01-01T00:00:00Z-ABC',
  ateomPodUid: 'uid-1',
  latestSnapshotInfo: {
    type: ateapi.SnapshotType.SNAPSHOT_TYPE_EXTERNAL,
    data: { $case: 'external', value: { snapshotUriPrefix: 'gs://bucket/alpha/1' } },
  },
  workerSelector: { matchLabels: { tier: 'gold' } },
  workerPoolName: 'pool-a',
  atespace: 'demo',
  // Our additions (numbers >= 100) stay at their defaults here, so only upstream's fields are encoded.
  statusChangedUnixMs: 0,
  ateomPodPort: 0,
  annotations: {},
};

describe('ateapi wire format', () => {
  it('encodes an Actor with every field set as fields 1..15 without 9, with upstream wire types', () => {
    const bytes = bytesOf(ateapi.Actor, FULL_ACTOR);
    expect(fieldLayout(bytes)).toEqual([
      [1, LEN],
      [2, VARINT],
      [3, LEN],
      [4, LEN],
      [5, VARINT],
      [6, LEN],
      [7, LEN],
      [8, LEN],
      [10, LEN],
      [11, LEN],
      [12, LEN],
      [13, LEN],
      [14, LEN],
      [15, LEN],
    ]);
    expect(text(only(bytes, 1))).toBe('alpha');
    expect(only(bytes, 2).value).toBe(7n);
    expect(text(only(bytes, 3))).toBe('default');
    expect(text(only(bytes, 4))).toBe('counter');
    expect(only(bytes, 5).value).toBe(6n);
    expect(text(only(bytes, 8))).toBe('127.0.0.9');
    expect(text(only(bytes, 10))).toBe('alpha-2026-01-01T00:00:00Z-ABC');
    expect(text(only(bytes, 11))).toBe('uid-1');
    expect(text(only(bytes, 14))).toBe('pool-a');
    expect(text(only(bytes, 15))).toBe('demo');

    const snapshotInfo = payload(only(bytes, 12));
    expect(fieldLayout(snapshotInfo)).toEqual([
      [1, VARINT],
      [2, LEN],
    ]);
    expect(only(snapshotInfo, 1).value).toBe(2n);
    expect(text(only(payload(only(snapshotInfo, 2)), 1))).toBe('gs://bucket/alpha/1');

    const selector = payload(only(bytes, 13));
    const entry = payload(only(selector, 1));
    expect(text(only(entry, 1))).toBe('tier');
    expect(text(only(entry, 2))).toBe('gold');
  });

  it('encodes the local snapshot as member 3 of the SnapshotInfo oneof', () => {
    const bytes = bytesOf(ateapi.SnapshotInfo, {
      type: ateapi.SnapshotType.SNAPSHOT_TYPE_LOCAL,
      data: { $case: 'local', value: { snapshotPrefix: 'p', nodeVmsWithLocalSnapshots: ['n1', 'n2'] } },
    });
    expect(fieldLayout(bytes)).toEqual([
      [1, VARINT],
      [3, LEN],
    ]);
    const local = payload(only(bytes, 3));
    expect(readFields(local).map((f) => [f.field, text(f)])).toEqual([
      [1, 'p'],
      [2, 'n1'],
      [2, 'n2'],
    ]);
  });

  it('encodes ActorRef{atespace=1, name=2}', () => {
    const bytes = bytesOf(ateapi.ActorRef, { atespace: 'demo', name: 'alpha' });
    expect(readFields(bytes).map((f) => [f.field, f.wireType, text(f)])).toEqual([
      [1, LEN, 'demo'],
      [2, LEN, 'alpha'],
    ]);
  });

  it('encodes ListActorsRequest{page_size=1, page_token=2, atespace=3}', () => {
    const bytes = bytesOf(ateapi.ListActorsRequest, { pageSize: 50, pageToken: 'tok', atespace: 'demo' });
    expect(fieldLayout(bytes)).toEqual([
      [1, VARINT],
      [2, LEN],
      [3, LEN],
    ]);
    expect(only(bytes, 1).value).toBe(50n);
    expect(text(only(bytes, 2))).toBe('tok');
    expect(text(only(bytes, 3))).toBe('demo');
  });

  it('encodes ResumeActorRequest{actor_ref=1, boot=2}', () => {
    const bytes = bytesOf(ateapi.ResumeActorRequest, {
      actorRef: { atespace: 'demo', name: 'alpha' },
      boot: true,
    });
    expect(fieldLayout(bytes)).toEqual([
      [1, LEN],
      [2, VARINT],
    ]);
    expect(only(bytes, 2).value).toBe(1n);
    expect(text(only(payload(only(bytes, 1)), 2))).toBe('alpha');
  });

  it('encodes Worker fields 1..11 with version as a varint at 8', () => {
    const bytes = bytesOf(ateapi.Worker, {
      workerNamespace: 'workers',
      workerPool: 'pool-a',
      workerPod: 'pool-a-0',
      actorNamespace: 'default',
      actorTemplate: 'counter',
      actorId: 'alpha',
      ip: '127.0.0.9',
      version: 3,
      workerPodUid: 'uid-1',
      nodeName: 'node-1',
      actorAtespace: 'demo',
      // Additions (>= 100) at their defaults: only upstream's fields are encoded.
      ateletEndpoint: '',
      claimedUnixMs: 0,
      leaseExpiresUnixMs: 0,
      httpPort: 0,
    });
    expect(fieldLayout(bytes)).toEqual([
      [1, LEN],
      [2, LEN],
      [3, LEN],
      [4, LEN],
      [5, LEN],
      [6, LEN],
      [7, LEN],
      [8, VARINT],
      [9, LEN],
      [10, LEN],
      [11, LEN],
    ]);
    expect(text(only(bytes, 6))).toBe('alpha');
    expect(text(only(bytes, 11))).toBe('demo');
  });

  it('encodes the list responses and the SessionIdentity messages with upstream numbers', () => {
    const list = bytesOf(ateapi.ListActorsResponse, { actors: [FULL_ACTOR, FULL_ACTOR], nextPageToken: 'n' });
    expect(fieldLayout(list)).toEqual([
      [1, LEN],
      [1, LEN],
      [2, LEN],
    ]);
    const jwt = bytesOf(ateapi.MintJWTRequest, {
      audience: ['a', 'b'],
      appId: 'ap',
      userId: 'u',
      sessionId: 's',
    });
    expect(readFields(jwt).map((f) => [f.field, text(f)])).toEqual([
      [1, 'a'],
      [1, 'b'],
      [2, 'ap'],
      [3, 'u'],
      [4, 's'],
    ]);
    const cert = bytesOf(ateapi.MintCertRequest, {
      appId: 'ap',
      userId: 'u',
      sessionId: 's',
      certificateSigningRequest: Buffer.from([0x30, 0x82]),
    });
    expect(Array.from(payload(only(cert, 4)))).toEqual([0x30, 0x82]);
    const certs = bytesOf(ateapi.MintCertResponse, {
      sessionCertificates: [Buffer.from([1]), Buffer.from([2])],
    });
    expect(fieldLayout(certs)).toEqual([
      [1, LEN],
      [1, LEN],
    ]);
  });

  it('decodes a CreateActorRequest hand-encoded as an upstream client sends it', () => {
    const bytes = message(
      encode.message(1, encode.string(1, 'demo'), encode.string(2, 'alpha')),
      encode.string(2, 'default'),
      encode.string(3, 'counter'),
      encode.message(4, encode.message(1, encode.string(1, 'tier'), encode.string(2, 'gold'))),
    );
    expect(ateapi.CreateActorRequest.decode(bytes)).toEqual({
      actorRef: { atespace: 'demo', name: 'alpha' },
      actorTemplateNamespace: 'default',
      actorTemplateName: 'counter',
      workerSelector: { matchLabels: { tier: 'gold' } },
      annotations: {},
    });
  });

  it('encodes the annotations addition at 102 and the idle timeout at 103, 0 included (presence)', () => {
    const bytes = bytesOf(ateapi.Actor, {
      ...FULL_ACTOR,
      annotations: { 'substrate.ate.dev/idle-suspend-after': '5m' },
      idleSuspendAfterMs: 0,
    });
    const layout = fieldLayout(bytes);
    expect(layout.slice(-2)).toEqual([
      [102, LEN],
      [103, VARINT],
    ]);
    expect(only(bytes, 103).value).toBe(0n);
    const unset = ateapi.Actor.decode(bytesOf(ateapi.Actor, FULL_ACTOR));
    expect(unset.idleSuspendAfterMs).toBeUndefined();
    expect(ateapi.Actor.decode(bytes).idleSuspendAfterMs).toBe(0);
  });

  it('decodes an upstream Actor record and skips the retired field 9 and unknown fields', () => {
    const bytes = message(
      encode.string(1, 'alpha'),
      encode.varint(2, 12),
      encode.varint(5, 4),
      encode.string(9, 'gs://legacy/last-snapshot'),
      encode.message(
        12,
        encode.varint(1, 1),
        encode.message(3, encode.string(1, 'p'), encode.string(2, 'n1')),
      ),
      encode.string(15, 'demo'),
      encode.varint(500, 1),
    );
    expect(ateapi.Actor.decode(bytes)).toEqual(
      ateapi.Actor.fromPartial({
        actorId: 'alpha',
        version: 12,
        status: ateapi.Actor_Status.STATUS_SUSPENDED,
        latestSnapshotInfo: {
          type: ateapi.SnapshotType.SNAPSHOT_TYPE_LOCAL,
          data: { $case: 'local', value: { snapshotPrefix: 'p', nodeVmsWithLocalSnapshots: ['n1'] } },
        },
        atespace: 'demo',
      }),
    );
  });

  it('maps int64 versions to number and refuses values beyond Number.MAX_SAFE_INTEGER', () => {
    const big = ateapi.Actor.decode(
      bytesOf(ateapi.Actor, ateapi.Actor.fromPartial({ version: 2 ** 40 + 1 })),
    );
    expect(big.version).toBe(2 ** 40 + 1);
    const tooBig = message(encode.varint(2, 2n ** 53n + 2n));
    expect(() => ateapi.Actor.decode(tooBig)).toThrow(/MAX_SAFE_INTEGER/);
  });

  it('keeps upstream enum numbers and names', () => {
    expect(enumTable(ateapi.Actor_Status)).toEqual([
      ['STATUS_UNSPECIFIED', 0],
      ['STATUS_RESUMING', 1],
      ['STATUS_RUNNING', 2],
      ['STATUS_SUSPENDING', 3],
      ['STATUS_SUSPENDED', 4],
      ['STATUS_PAUSING', 5],
      ['STATUS_PAUSED', 6],
    ]);
    expect(enumTable(ateapi.SnapshotType)).toEqual([
      ['SNAPSHOT_TYPE_UNSPECIFIED', 0],
      ['SNAPSHOT_TYPE_LOCAL', 1],
      ['SNAPSHOT_TYPE_EXTERNAL', 2],
    ]);
    expect(enumTable(atelet.CheckpointType)).toEqual([
      ['CHECKPOINT_TYPE_UNSPECIFIED', 0],
      ['CHECKPOINT_TYPE_LOCAL', 1],
      ['CHECKPOINT_TYPE_EXTERNAL', 2],
    ]);
    const scopes = [
      ['SNAPSHOT_SCOPE_UNSPECIFIED', 0],
      ['SNAPSHOT_SCOPE_FULL', 1],
      ['SNAPSHOT_SCOPE_DATA', 2],
    ];
    expect(enumTable(atelet.SnapshotScope)).toEqual(scopes);
    expect(enumTable(ateom.SnapshotScope)).toEqual(scopes);
    expect(enumTable(atelet.VolumeType)).toEqual([
      ['VOLUME_TYPE_UNSPECIFIED', 0],
      ['VOLUME_TYPE_DURABLE_DIR', 1],
    ]);
    expect(ateapi.actor_StatusToJSON(ateapi.Actor_Status.STATUS_RUNNING)).toBe('STATUS_RUNNING');
  });

  it('speaks protojson: lowerCamelCase names, enum names, oneof member names, int64 as string or number', () => {
    const json = ateapi.Actor.toJSON(
      ateapi.Actor.fromPartial({
        actorId: 'alpha',
        version: 3,
        status: ateapi.Actor_Status.STATUS_SUSPENDED,
        latestSnapshotInfo: {
          type: ateapi.SnapshotType.SNAPSHOT_TYPE_EXTERNAL,
          data: { $case: 'external', value: { snapshotUriPrefix: 'gs://b/a/1' } },
        },
        atespace: 'demo',
      }),
    );
    expect(json).toEqual({
      actorId: 'alpha',
      version: 3,
      status: 'STATUS_SUSPENDED',
      latestSnapshotInfo: { type: 'SNAPSHOT_TYPE_EXTERNAL', external: { snapshotUriPrefix: 'gs://b/a/1' } },
      atespace: 'demo',
    });
    // Go's protojson writes int64 as a JSON string and accepts both.
    const fromGo = ateapi.Actor.fromJSON({ actorId: 'alpha', version: '12', status: 'STATUS_RUNNING' });
    expect(fromGo.version).toBe(12);
    expect(fromGo.status).toBe(ateapi.Actor_Status.STATUS_RUNNING);
  });
});

describe('atelet wire format', () => {
  const spec: atelet.WorkloadSpec = atelet.WorkloadSpec.fromPartial({
    containers: [{ name: 'app', image: 'img', command: ['/app'], env: [{ name: 'A', value: '1' }] }],
    pauseImage: 'pause',
    volumes: [
      {
        name: 'data',
        type: atelet.VolumeType.VOLUME_TYPE_DURABLE_DIR,
        source: { $case: 'durableDir', value: {} },
      },
    ],
  });

  it('encodes RunRequest with fields 1, 3, 4, 5, 7, 9 and our addition at 100', () => {
    const bytes = bytesOf(
      atelet.RunRequest,
      atelet.RunRequest.fromPartial({
        targetAteomUid: 'uid',
        actorTemplateNamespace: 'default',
        actorTemplateName: 'counter',
        actorId: 'alpha',
        spec,
        sandboxAssets: {
          sandboxClass: 'gvisor',
          assets: { amd64: { files: { runsc: { url: 'u', sha256: 's' } } } },
        },
        actorAtespace: 'demo',
      }),
    );
    expect(fieldLayout(bytes).map(([field]) => field)).toEqual([1, 3, 4, 5, 7, 9, 100]);
    expect(text(only(bytes, 100))).toBe('demo');
  });

  it('encodes CheckpointRequest with type 9, the config oneof at 10/11 and scope 12', () => {
    const bytes = bytesOf(
      atelet.CheckpointRequest,
      atelet.CheckpointRequest.fromPartial({
        targetAteomUid: 'uid',
        actorId: 'alpha',
        type: atelet.CheckpointType.CHECKPOINT_TYPE_EXTERNAL,
        config: { $case: 'externalConfig', value: { snapshotUriPrefix: 'gs://b/p' } },
        scope: atelet.SnapshotScope.SNAPSHOT_SCOPE_DATA,
      }),
    );
    expect(fieldLayout(bytes)).toEqual([
      [1, LEN],
      [5, LEN],
      [9, VARINT],
      [11, LEN],
      [12, VARINT],
    ]);
    expect(text(only(payload(only(bytes, 11)), 1))).toBe('gs://b/p');
    const local = bytesOf(
      atelet.RestoreRequest,
      atelet.RestoreRequest.fromPartial({ config: { $case: 'localConfig', value: { snapshotPrefix: 'p' } } }),
    );
    expect(fieldLayout(local)).toEqual([[10, LEN]]);
  });

  it('encodes the workload spec: containers 1, pause_image 2, volumes 3 with durable_dir as oneof member 3', () => {
    const bytes = bytesOf(atelet.WorkloadSpec, spec);
    expect(fieldLayout(bytes).map(([field]) => field)).toEqual([1, 2, 3]);
    const container = payload(only(bytes, 1));
    expect(fieldLayout(container).map(([field]) => field)).toEqual([1, 2, 3, 4]);
    const volume = payload(only(bytes, 3));
    expect(fieldLayout(volume)).toEqual([
      [1, LEN],
      [2, VARINT],
      [3, LEN],
    ]);
    expect(payload(only(volume, 3))).toHaveLength(0);
  });
});

describe('ateom wire format', () => {
  it('encodes CheckpointWorkloadRequest fields 1..8 and decodes the snapshot_files response', () => {
    const bytes = bytesOf(
      ateom.CheckpointWorkloadRequest,
      ateom.CheckpointWorkloadRequest.fromPartial({
        actorTemplateNamespace: 'default',
        actorTemplateName: 'counter',
        actorId: 'alpha',
        runscPath: '/runsc',
        spec: { containers: [{ name: 'app', readyz: { httpGet: { path: '/readyz', port: 8080 } } }] },
        snapshotUriPrefix: 'x',
        runtimeAssetPaths: { k: 'v' },
        scope: ateom.SnapshotScope.SNAPSHOT_SCOPE_FULL,
      }),
    );
    expect(fieldLayout(bytes).map(([field]) => field)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const response = message(encode.string(1, 'checkpoint.img'), encode.string(1, 'pages.img'));
    expect(ateom.CheckpointWorkloadResponse.decode(response).snapshotFiles).toEqual([
      'checkpoint.img',
      'pages.img',
    ]);
  });
});

function enumTable(values: Record<string, string | number>): Array<[string, number]> {
  return Object.entries(values)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] >= 0)
    .sort((a, b) => a[1] - b[1]);
}
