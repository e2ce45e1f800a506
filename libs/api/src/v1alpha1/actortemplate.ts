import { type Assert, type Equals } from '../schema/assert';
import {
  arr,
  bool,
  cel,
  celTransition,
  enumOf,
  exactlyOneOf,
  type InputOf,
  int32,
  map,
  obj,
  type OutputOf,
  str,
} from '../schema/schema';
import { deepEqual } from '../schema/validate';
import {
  type API_VERSION,
  type Condition,
  conditionSchema,
  dnsLabel,
  dnsSubdomain,
  type LabelSelector,
  labelSelectorSchema,
  pinnedImage,
  type SandboxClass,
  sandboxClassSchema,
} from './common';
import { type ObjectMeta } from './meta';

/** A key of a Secret in the template's namespace. */
export interface SecretKeySelector {
  name: string;
  key: string;
  optional?: boolean;
}

/** Where an env value comes from; only `secretKeyRef` is supported. */
export interface EnvVarSource {
  secretKeyRef?: SecretKeySelector;
}

/** An environment variable: exactly one of `value` (literal, never `$(VAR)`-expanded) or `valueFrom`. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

/** The HTTP request of a readiness probe. */
export interface HTTPGetAction {
  /** Defaults to `/readyz`. */
  path: string;
  port: number;
}

/** Readiness probe: the actor is not ready until `httpGet` answers 200. */
export interface ContainerReadyz {
  httpGet: HTTPGetAction;
}

/** Mounts a volume of the template into a container. */
export interface VolumeMount {
  name: string;
  /** Clean absolute path: starts with `/`, is not `/`, no trailing `/`, `//`, `:`, `.`/`..` or control characters. */
  mountPath: string;
}

/** One container of an actor. There is no `ports` field: actors listen on port 80. */
export interface Container {
  /** DNS-1123 label. */
  name: string;
  /** Must be pinned by digest (`@sha256:…`). */
  image: string;
  /** The process argv; the image's ENTRYPOINT/CMD are not used. At most 64 items. */
  command?: string[];
  /** At most 32. */
  env?: EnvVar[];
  readyz?: ContainerReadyz;
  /** At most 32. */
  volumeMounts?: VolumeMount[];
}

/** A durable directory on the rootfs that persists across resumes and is what `Data` snapshots hold. */
export type DurableDirVolumeSource = Record<string, never>;

/** A volume; exactly one source (today only `durableDir`). */
export interface Volume {
  name: string;
  durableDir?: DurableDirVolumeSource;
}

/** What a snapshot holds: the whole sandbox (`Full`) or only the durable directory (`Data`). */
export type SnapshotScope = 'Full' | 'Data';

/** Where and what to snapshot. */
export interface SnapshotsConfig {
  /** Object-storage URI prefix, e.g. `gs://bucket/prefix`. */
  location: string;
  /** Scope of Pause checkpoints. Defaults to `Full`. */
  onPause: SnapshotScope;
  /** Scope of Suspend (commit) checkpoints; a subset of `onPause`. Defaults to `Full`. */
  onCommit: SnapshotScope;
}

/**
 * Pins a template to one WorkerPool (kagent's field). It narrows placement and never widens it: the
 * pool must also match `workerSelector`, the template's `sandboxClass` and the actor's selector.
 */
export interface WorkerPoolRef {
  name: string;
  /** Defaults to the template's namespace. */
  namespace?: string;
}

/** A gVisor `runsc` binary for one architecture (kagent's field). */
export interface RunscBinary {
  url: string;
  /** Lower-case hex SHA-256 of the binary. */
  sha256Hash: string;
}

/** Desired state of an ActorTemplate. Immutable after creation. */
export interface ActorTemplateSpec {
  /** Root sandbox container image; pinned by digest. */
  pauseImage: string;
  /** At most 10. */
  containers?: Container[];
  snapshotsConfig: SnapshotsConfig;
  /** Defaults to `gvisor`. */
  sandboxClass: SandboxClass;
  /** Only pools whose labels match are eligible. */
  workerSelector?: LabelSelector;
  workerPoolRef?: WorkerPoolRef;
  /** Per-architecture (GOARCH) runsc used for cold boots; wins over the SandboxConfig's `runsc` asset. */
  runsc?: Record<string, RunscBinary>;
  /** At most 32. */
  volumes?: Volume[];
}

/** Phases of the golden-snapshot state machine (`Failed` is reserved). */
export type ActorTemplatePhase = '' | 'ResumeGoldenActor' | 'WaitGoldenActor' | 'Ready' | 'Failed';

/** Observed state of an ActorTemplate. */
export interface ActorTemplateStatus {
  /** One of {@link ActorTemplatePhase}; not validated by the CRD. */
  phase?: string;
  goldenActorID?: string;
  takeGoldenSnapshotAt?: string;
  /** External URI prefix of the golden snapshot. */
  goldenSnapshot?: string;
  conditions?: Condition[];
}

/** A workload definition from which actors are created; its spec is immutable. */
export interface ActorTemplate {
  apiVersion: typeof API_VERSION;
  kind: 'ActorTemplate';
  metadata: ObjectMeta;
  spec: ActorTemplateSpec;
  status?: ActorTemplateStatus;
}

const SHA256_HEX = '^[a-f0-9]{64}$';
const SNAPSHOT_SCOPES: readonly SnapshotScope[] = ['Full', 'Data'];
const READYZ_PATH = String.raw`^/([A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$`;

const isCleanAbsolutePath = (p: string) =>
  p.startsWith('/') &&
  p !== '/' &&
  !p.endsWith('/') &&
  !p.includes('//') &&
  !p.includes(':') &&
  ![...p].some((c) => c < ' ' || c === '\x7f') &&
  !p.split('/').some((s) => s === '.' || s === '..');

const envVarSchema = obj(
  {
    name: str({
      minLength: 1,
      pattern: '^[ -<>-~]+$',
      description: "Name of the variable: printable ASCII except '='.",
    }),
    value: str({
      description: 'Literal value; $(VAR) references are not expanded. Mutually exclusive with valueFrom.',
    }),
    valueFrom: obj(
      {
        secretKeyRef: obj(
          {
            name: dnsSubdomain('Name of the Secret in the ActorTemplate namespace.'),
            key: str({ minLength: 1, pattern: '^[-._a-zA-Z0-9]+$', description: 'Key within the Secret.' }),
            optional: bool({ description: 'Whether the Secret or its key may be missing.' }),
          },
          {
            required: ['name', 'key'],
            description: "Selects a key of a Secret in the ActorTemplate's namespace.",
          },
        ),
      },
      {
        minProperties: 1,
        maxProperties: 1,
        description: 'Source of the value. Mutually exclusive with value.',
      },
    ),
  },
  { required: ['name'], rules: [exactlyOneOf<EnvVar>('value', 'valueFrom')] },
);

const containerSchema = obj(
  {
    name: dnsLabel('Name of the container.'),
    image: pinnedImage('Image of the container, pinned by digest.'),
    command: arr(str(), {
      maxItems: 64,
      listType: 'atomic',
      description: 'The process argv. Not run in a shell; the image ENTRYPOINT and CMD are not used.',
    }),
    env: arr(envVarSchema, { maxItems: 32, description: 'Environment variables of the container.' }),
    readyz: obj(
      {
        httpGet: obj(
          {
            path: str({
              default: '/readyz',
              maxLength: 1024,
              pattern: READYZ_PATH,
              description: 'URL path starting with "/", without query or fragment. Defaults to "/readyz".',
            }),
            port: int32({ minimum: 1, maximum: 65535, description: 'Port of the container.' }),
          },
          { required: ['port'], description: 'HTTP GET request to perform against the container.' },
        ),
      },
      { required: ['httpGet'], description: 'Readiness probe; the actor is not ready until it answers 200.' },
    ),
    volumeMounts: arr(
      obj(
        {
          name: dnsLabel('Name of a volume in spec.volumes.'),
          mountPath: str({
            maxLength: 4096,
            description: 'Clean absolute path at which the volume is mounted.',
            rules: [
              cel<string>(
                String.raw`self.startsWith('/') && self != '/' && !self.endsWith('/') && !self.contains('//') && !self.contains(':') && !self.matches('[\\x00-\\x1f\\x7f]') && !self.matches('(^|/)[.][.]?(/|$)')`,
                "MountPath must be a clean absolute Unix path: must start with '/', not be '/', and contain no ':', '..', '.', '//', trailing '/', or control characters",
                isCleanAbsolutePath,
              ),
            ],
          }),
        },
        { required: ['name', 'mountPath'] },
      ),
      { maxItems: 32, description: 'Volumes mounted into this container.' },
    ),
  },
  { required: ['name', 'image'] },
);

const volumeSchema = obj(
  {
    name: dnsLabel('Name of the volume.'),
    durableDir: obj(
      {},
      {
        description: 'A directory on the rootfs that persists across resumes and is kept by Data snapshots.',
      },
    ),
  },
  { required: ['name'], rules: [exactlyOneOf<Volume>('durableDir')] },
);

const durableDirNames = (spec: ActorTemplateSpec) =>
  new Set((spec.volumes ?? []).filter((v) => v.durableDir !== undefined).map((v) => v.name));

export const actorTemplateSpecSchema = obj(
  {
    pauseImage: pinnedImage('Image of the root sandbox container, pinned by digest.'),
    containers: arr(containerSchema, { maxItems: 10, description: 'The containers of each actor.' }),
    snapshotsConfig: obj(
      {
        location: str({
          minLength: 1,
          description: 'Object-storage URI prefix of snapshots, e.g. gs://bucket/prefix.',
        }),
        onPause: enumOf(SNAPSHOT_SCOPES, { default: 'Full', description: 'What Pause checkpoints hold.' }),
        onCommit: enumOf(SNAPSHOT_SCOPES, {
          default: 'Full',
          description: 'What Suspend (commit) checkpoints hold; must be a subset of onPause.',
        }),
      },
      {
        required: ['location'],
        description: 'Where and what to snapshot.',
        rules: [
          cel<SnapshotsConfig>(
            "!has(self.onPause) || self.onPause == 'Full' || (has(self.onCommit) && self.onCommit == 'Data')",
            'onCommit must be a subset of onPause',
            (s) => s.onPause === 'Full' || s.onCommit === 'Data',
            '.onCommit',
          ),
        ],
      },
    ),
    sandboxClass: sandboxClassSchema('Sandbox runtime family; only pools of the same class are eligible.'),
    workerSelector: labelSelectorSchema('Only WorkerPools whose labels match are eligible.'),
    workerPoolRef: obj(
      {
        name: dnsSubdomain('Name of the WorkerPool.'),
        namespace: dnsLabel("Namespace of the WorkerPool; defaults to the ActorTemplate's.", 'Namespace'),
      },
      {
        required: ['name'],
        description:
          'Pins actors of this template to one WorkerPool. It narrows placement: the pool must also match workerSelector and sandboxClass.',
      },
    ),
    runsc: map(
      obj(
        {
          url: str({ minLength: 1, description: 'Where to download the runsc binary from.' }),
          sha256Hash: str({ pattern: SHA256_HEX, description: 'Lower-case hex SHA-256 of the binary.' }),
        },
        { required: ['url', 'sha256Hash'] },
      ),
      {
        minProperties: 1,
        description:
          'runsc binary per architecture (GOARCH) for cold boots of this template; takes precedence over the SandboxConfig runsc asset.',
      },
    ),
    volumes: arr(volumeSchema, { maxItems: 32, description: 'Volumes available to the containers.' }),
  },
  {
    required: ['pauseImage', 'snapshotsConfig'],
    description: 'Desired state of the ActorTemplate. Immutable.',
    rules: [
      celTransition<ActorTemplateSpec>('self == oldSelf', 'Spec is immutable', deepEqual),
      cel<ActorTemplateSpec>(
        '!has(self.volumes) || size(self.volumes.filter(v, has(v.durableDir))) <= 1',
        'At most one DurableDir-typed volume is supported per ActorTemplate',
        (s) => (s.volumes ?? []).filter((v) => v.durableDir !== undefined).length <= 1,
        '.volumes',
      ),
      cel<ActorTemplateSpec>(
        '!has(self.containers) || !has(self.volumes) || self.containers.all(c, !has(c.volumeMounts) || size(c.volumeMounts.filter(m, self.volumes.exists(v, v.name == m.name && has(v.durableDir)))) <= 1)',
        'A container may mount at most one DurableDir-typed volume',
        (s) => {
          const durable = durableDirNames(s);
          return (s.containers ?? []).every(
            (c) => (c.volumeMounts ?? []).filter((m) => durable.has(m.name)).length <= 1,
          );
        },
        '.containers',
      ),
      cel<ActorTemplateSpec>(
        "!has(self.sandboxClass) || self.sandboxClass != 'microvm' || !has(self.volumes) || self.volumes.all(v, !has(v.durableDir))",
        "DurableDir volumes are not supported when sandboxClass is 'microvm'",
        (s) => s.sandboxClass !== 'microvm' || durableDirNames(s).size === 0,
        '.volumes',
      ),
      cel<ActorTemplateSpec>(
        "!has(self.runsc) || !has(self.sandboxClass) || self.sandboxClass == 'gvisor'",
        "runsc is not supported when sandboxClass is 'microvm'",
        (s) => s.runsc === undefined || s.sandboxClass === 'gvisor',
        '.runsc',
      ),
    ],
  },
);

export const actorTemplateStatusSchema = obj(
  {
    phase: str({ description: 'Phase of the golden-snapshot state machine.' }),
    goldenActorID: str({ description: 'ID of the golden actor in atespace ate-golden.' }),
    takeGoldenSnapshotAt: str({ format: 'date-time', description: 'When the golden snapshot is taken.' }),
    goldenSnapshot: str({ description: 'External URI prefix of the golden snapshot.' }),
    conditions: arr(conditionSchema, { description: 'Conditions of the template (Ready).' }),
  },
  { description: 'Observed state of the ActorTemplate.' },
);

/** What an ActorTemplate manifest may contain for `spec` (defaulted fields optional). */
export type ActorTemplateSpecInput = InputOf<typeof actorTemplateSpecSchema>;

type _ActorTemplateChecks = [
  Assert<Equals<ActorTemplateSpec, OutputOf<typeof actorTemplateSpecSchema>>>,
  Assert<Equals<ActorTemplateStatus, OutputOf<typeof actorTemplateStatusSchema>>>,
];
