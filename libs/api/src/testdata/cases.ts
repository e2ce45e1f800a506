// Test fixtures: minimal valid objects of each kind and a table of edits that each make one invalid,
// with the exact `path: message` lines the validator (and the API server) report. Used by the specs.
import { RULES_NOT_CHECKED } from '../schema/validate';
import { QUANTITY_PATTERN } from '../v1alpha1/common';

export const HEX64 = 'a'.repeat(64);

export const BASES = {
  pool: {
    apiVersion: 'ate.dev/v1alpha1',
    kind: 'WorkerPool',
    metadata: { name: 'pool', namespace: 'ns' },
    spec: { replicas: 1, ateomImage: 'ateom:v1' },
  },
  template: {
    apiVersion: 'ate.dev/v1alpha1',
    kind: 'ActorTemplate',
    metadata: { name: 'tmpl', namespace: 'ns' },
    spec: {
      pauseImage: 'pause@sha256:0',
      containers: [{ name: 'app', image: 'app@sha256:0', command: ['/app'] }],
      snapshotsConfig: { location: 'gs://bucket/prefix' },
    },
  },
  config: {
    apiVersion: 'ate.dev/v1alpha1',
    kind: 'SandboxConfig',
    metadata: { name: 'cfg' },
    spec: { assets: { amd64: { runsc: { url: 'gs://bin/runsc', sha256: HEX64 } } } },
  },
} as const;

/** Which base object, which dotted paths to set (`undefined` deletes), and the expected issues. */
export interface InvalidCase {
  readonly name: string;
  readonly base: keyof typeof BASES;
  readonly set: Readonly<Record<string, unknown>>;
  readonly expect: readonly string[];
}

/** `base` with `set` applied: `a.b.0.c` addresses nested fields and list items. */
export function edit(
  base: keyof typeof BASES,
  set: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out = structuredClone(BASES[base]) as Record<string, unknown>;
  for (const [path, value] of Object.entries(set)) {
    const keys = path.split('.');
    const last = keys.pop() ?? '';
    let node = out;
    for (const k of keys) node = (node[k] ??= {}) as Record<string, unknown>;
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return out;
}

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const PINNED = 'All images must be pinned (changing the image invalidates snapshots)';
const MOUNT_PATH =
  "MountPath must be a clean absolute Unix path: must start with '/', not be '/', and contain no ':', '..', '.', '//', trailing '/', or control characters";
const READYZ_PATTERN = "^/([A-Za-z0-9\\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$";
const GVISOR_ASSETS =
  "spec.assets: a gvisor SandboxConfig must define a 'runsc' asset for every architecture under spec.assets";
const C0 = 'spec.containers.0';
const env = (e: object) => ({ [`${C0}.env`]: [{ name: 'A', ...e }] });
const mount = (mountPath: string) => ({ [`${C0}.volumeMounts`]: [{ name: 'data', mountPath }] });
const condition = {
  type: 'Ready',
  status: 'True',
  lastTransitionTime: '2026-06-30T12:00:00Z',
  reason: 'Ready',
  message: '',
};
const times = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));

export const INVALID_CASES: readonly InvalidCase[] = [
  // ---- WorkerPool ----
  {
    name: 'negative replicas',
    base: 'pool',
    set: { 'spec.replicas': -1 },
    expect: ['spec.replicas: Invalid value: -1: should be greater than or equal to 0'],
  },
  {
    name: 'missing replicas',
    base: 'pool',
    set: { 'spec.replicas': undefined },
    expect: ['spec.replicas: Required value'],
  },
  {
    name: 'replicas as string',
    base: 'pool',
    set: { 'spec.replicas': '3' },
    expect: ['spec.replicas: Invalid value: "string": must be of type integer'],
  },
  {
    name: 'fractional replicas',
    base: 'pool',
    set: { 'spec.replicas': 1.5 },
    expect: ['spec.replicas: Invalid value: "number": must be of type integer'],
  },
  {
    name: 'empty ateomImage',
    base: 'pool',
    set: { 'spec.ateomImage': '' },
    expect: ['spec.ateomImage: Invalid value: "": should be at least 1 chars long'],
  },
  {
    name: 'missing ateomImage',
    base: 'pool',
    set: { 'spec.ateomImage': undefined },
    expect: ['spec.ateomImage: Required value'],
  },
  {
    name: 'unknown sandbox class',
    base: 'pool',
    set: { 'spec.sandboxClass': 'kvm' },
    expect: ['spec.sandboxClass: Unsupported value: "kvm": supported values: "gvisor", "microvm"'],
  },
  {
    name: '17 tolerations',
    base: 'pool',
    set: { 'spec.template.tolerations': times(17, () => ({ operator: 'Exists' })) },
    expect: ['spec.template.tolerations: Too many: 17: must have at most 16 items'],
  },
  {
    name: 'unknown spec field',
    base: 'pool',
    set: { 'spec.foo': 1 },
    expect: ['spec.foo: field not declared in schema'],
  },
  { name: 'missing spec', base: 'pool', set: { spec: undefined }, expect: ['spec: Required value'] },
  {
    name: 'toleration seconds as string',
    base: 'pool',
    set: { 'spec.template.tolerations': [{ key: 'k', tolerationSeconds: 'soon' }] },
    expect: [
      'spec.template.tolerations[0].tolerationSeconds: Invalid value: "string": must be of type integer',
    ],
  },
  {
    name: 'node affinity without terms',
    base: 'pool',
    set: { 'spec.template.nodeAffinity': { requiredDuringSchedulingIgnoredDuringExecution: {} } },
    expect: [
      'spec.template.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value',
    ],
  },
  {
    name: 'bad quantity',
    base: 'pool',
    set: { 'spec.template.resources': { limits: { cpu: 'lots' } } },
    expect: [`spec.template.resources.limits.cpu: Invalid value: "lots": should match '${QUANTITY_PATTERN}'`],
  },
  {
    name: 'node selector value not a string',
    base: 'pool',
    set: { 'spec.template.nodeSelector': { disk: 1 } },
    expect: ['spec.template.nodeSelector.disk: Invalid value: "integer": must be of type string'],
  },
  {
    name: 'duplicate resource claim',
    base: 'pool',
    set: { 'spec.template.resources': { claims: [{ name: 'gpu' }, { name: 'gpu' }] } },
    expect: ['spec.template.resources.claims[1]: Duplicate value: {"name":"gpu"}'],
  },
  {
    name: 'negative status replicas',
    base: 'pool',
    set: { 'status.replicas': -2 },
    expect: ['status.replicas: Invalid value: -2: should be greater than or equal to 0'],
  },
  {
    name: 'missing name',
    base: 'pool',
    set: { 'metadata.name': undefined },
    expect: ['metadata.name: Required value'],
  },
  {
    name: 'name not a DNS subdomain',
    base: 'pool',
    set: { 'metadata.name': 'Kagent_Default' },
    expect: [`metadata.name: Invalid value: "Kagent_Default": ${SUBDOMAIN_MSG}`],
  },
  {
    name: 'name too long',
    base: 'pool',
    set: { 'metadata.name': 'a'.repeat(254) },
    expect: [`metadata.name: Invalid value: "${'a'.repeat(254)}": must be no more than 253 characters`],
  },
  {
    name: 'missing namespace',
    base: 'pool',
    set: { 'metadata.namespace': undefined },
    expect: ['metadata.namespace: Required value'],
  },
  {
    name: 'namespace not a DNS label',
    base: 'pool',
    set: { 'metadata.namespace': 'Kagent' },
    expect: [`metadata.namespace: Invalid value: "Kagent": ${LABEL_MSG}`],
  },
  {
    name: 'bad label value',
    base: 'pool',
    set: { 'metadata.labels': { workload: 'bad value!' } },
    expect: [
      `metadata.labels: Invalid value: "bad value!": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-_.A-Za-z0-9]*)?[A-Za-z0-9])?')`,
    ],
  },
  {
    name: 'wrong apiVersion',
    base: 'pool',
    set: { apiVersion: 'ate.dev/v1' },
    expect: ['apiVersion: Unsupported value: "ate.dev/v1": supported values: "ate.dev/v1alpha1"'],
  },
  {
    name: 'foreign kind',
    base: 'pool',
    set: { kind: 'Deployment' },
    expect: [
      'kind: Unsupported value: "Deployment": supported values: "ActorTemplate", "SandboxConfig", "WorkerPool"',
    ],
  },
  { name: 'missing kind', base: 'pool', set: { kind: undefined }, expect: ['kind: Required value'] },

  // ---- ActorTemplate ----
  {
    name: 'unpinned pause image',
    base: 'template',
    set: { 'spec.pauseImage': 'registry.k8s.io/pause:3.10' },
    expect: [`spec.pauseImage: ${PINNED}`],
  },
  {
    name: 'missing pause image',
    base: 'template',
    set: { 'spec.pauseImage': undefined },
    expect: ['spec.pauseImage: Required value', RULES_NOT_CHECKED],
  },
  {
    name: 'unpinned container image',
    base: 'template',
    set: { 'spec.containers.1': { name: 'b', image: 'nginx:latest' } },
    expect: [`spec.containers[1].image: ${PINNED}`],
  },
  {
    name: '11 containers',
    base: 'template',
    set: { 'spec.containers': times(11, (i) => ({ name: `c${i}`, image: 'app@sha256:0' })) },
    expect: ['spec.containers: Too many: 11: must have at most 10 items', RULES_NOT_CHECKED],
  },
  {
    name: 'container name not a DNS label',
    base: 'template',
    set: { [`${C0}.name`]: 'Hello' },
    expect: ['spec.containers[0].name: Name must be a valid DNS label'],
  },
  {
    name: 'container name too long',
    base: 'template',
    set: { [`${C0}.name`]: 'a'.repeat(64) },
    expect: ['spec.containers[0].name: Too long: may not be more than 63 bytes', RULES_NOT_CHECKED],
  },
  {
    name: 'container without image',
    base: 'template',
    set: { [`${C0}.image`]: undefined },
    expect: ['spec.containers[0].image: Required value', RULES_NOT_CHECKED],
  },
  {
    name: 'container ports (not in the CRD)',
    base: 'template',
    set: { [`${C0}.ports`]: [80] },
    expect: ['spec.containers[0].ports: field not declared in schema'],
  },
  {
    name: '65 command items',
    base: 'template',
    set: { [`${C0}.command`]: times(65, String) },
    expect: ['spec.containers[0].command: Too many: 65: must have at most 64 items', RULES_NOT_CHECKED],
  },
  {
    name: '33 env vars',
    base: 'template',
    set: { [`${C0}.env`]: times(33, (i) => ({ name: `V${i}`, value: '' })) },
    expect: ['spec.containers[0].env: Too many: 33: must have at most 32 items', RULES_NOT_CHECKED],
  },
  {
    name: "env name with '='",
    base: 'template',
    set: env({ name: 'A=B', value: '1' }),
    expect: ['spec.containers[0].env[0].name: Invalid value: "A=B": should match \'^[ -<>-~]+$\''],
  },
  {
    name: 'empty env name',
    base: 'template',
    set: env({ name: '', value: '1' }),
    expect: ['spec.containers[0].env[0].name: Invalid value: "": should be at least 1 chars long'],
  },
  {
    name: 'env with value and valueFrom',
    base: 'template',
    set: env({ value: '1', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }),
    expect: ['spec.containers[0].env[0]: exactly one of the fields in [value valueFrom] must be set'],
  },
  {
    name: 'env with neither value nor valueFrom',
    base: 'template',
    set: env({}),
    expect: ['spec.containers[0].env[0]: exactly one of the fields in [value valueFrom] must be set'],
  },
  {
    name: 'empty valueFrom',
    base: 'template',
    set: env({ valueFrom: {} }),
    expect: ['spec.containers[0].env[0].valueFrom: Invalid value: 0: should have at least 1 properties'],
  },
  {
    name: 'valueFrom configMapKeyRef',
    base: 'template',
    set: env({ valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }),
    expect: [
      'spec.containers[0].env[0].valueFrom.configMapKeyRef: field not declared in schema',
      'spec.containers[0].env[0].valueFrom: Invalid value: 0: should have at least 1 properties',
    ],
  },
  {
    name: 'secret key with a slash',
    base: 'template',
    set: env({ valueFrom: { secretKeyRef: { name: 's', key: 'a/b' } } }),
    expect: [
      'spec.containers[0].env[0].valueFrom.secretKeyRef.key: Invalid value: "a/b": should match \'^[-._a-zA-Z0-9]+$\'',
    ],
  },
  {
    name: 'secret name not a DNS subdomain',
    base: 'template',
    set: env({ valueFrom: { secretKeyRef: { name: 'Bad_Name', key: 'k' } } }),
    expect: ['spec.containers[0].env[0].valueFrom.secretKeyRef.name: Name must be a valid DNS subdomain'],
  },
  {
    name: 'secret name missing',
    base: 'template',
    set: env({ valueFrom: { secretKeyRef: { key: 'k' } } }),
    expect: ['spec.containers[0].env[0].valueFrom.secretKeyRef.name: Required value', RULES_NOT_CHECKED],
  },
  {
    name: 'readyz port 0',
    base: 'template',
    set: { [`${C0}.readyz`]: { httpGet: { port: 0 } } },
    expect: [
      'spec.containers[0].readyz.httpGet.port: Invalid value: 0: should be greater than or equal to 1',
    ],
  },
  {
    name: 'readyz port 70000',
    base: 'template',
    set: { [`${C0}.readyz`]: { httpGet: { port: 70000 } } },
    expect: [
      'spec.containers[0].readyz.httpGet.port: Invalid value: 70000: should be less than or equal to 65535',
    ],
  },
  {
    name: 'readyz relative path',
    base: 'template',
    set: { [`${C0}.readyz`]: { httpGet: { path: 'readyz', port: 80 } } },
    expect: [
      `spec.containers[0].readyz.httpGet.path: Invalid value: "readyz": should match '${READYZ_PATTERN}'`,
    ],
  },
  {
    name: 'readyz path with query',
    base: 'template',
    set: { [`${C0}.readyz`]: { httpGet: { path: '/readyz?full=1', port: 80 } } },
    expect: [
      `spec.containers[0].readyz.httpGet.path: Invalid value: "/readyz?full=1": should match '${READYZ_PATTERN}'`,
    ],
  },
  {
    name: 'readyz bad percent escape',
    base: 'template',
    set: { [`${C0}.readyz`]: { httpGet: { path: '/a%2', port: 80 } } },
    expect: [
      `spec.containers[0].readyz.httpGet.path: Invalid value: "/a%2": should match '${READYZ_PATTERN}'`,
    ],
  },
  {
    name: 'readyz path too long',
    base: 'template',
    set: { [`${C0}.readyz`]: { httpGet: { path: `/${'a'.repeat(1024)}`, port: 80 } } },
    expect: [
      'spec.containers[0].readyz.httpGet.path: Too long: may not be more than 1024 bytes',
      RULES_NOT_CHECKED,
    ],
  },
  {
    name: 'readyz without httpGet',
    base: 'template',
    set: { [`${C0}.readyz`]: {} },
    expect: ['spec.containers[0].readyz.httpGet: Required value', RULES_NOT_CHECKED],
  },
  {
    name: '33 volume mounts',
    base: 'template',
    set: { [`${C0}.volumeMounts`]: times(33, (i) => ({ name: `v${i}`, mountPath: `/v${i}` })) },
    expect: ['spec.containers[0].volumeMounts: Too many: 33: must have at most 32 items', RULES_NOT_CHECKED],
  },
  ...['/', 'data', '/data/', '/a//b', '/a:b', '/a/../b', '/a/./b', '/..', '/a\tb'].map((p): InvalidCase => ({
    name: `mountPath ${JSON.stringify(p)}`,
    base: 'template',
    set: mount(p),
    expect: [`spec.containers[0].volumeMounts[0].mountPath: ${MOUNT_PATH}`],
  })),
  {
    name: 'mountPath too long',
    base: 'template',
    set: mount(`/${'a'.repeat(4096)}`),
    expect: [
      'spec.containers[0].volumeMounts[0].mountPath: Too long: may not be more than 4096 bytes',
      RULES_NOT_CHECKED,
    ],
  },
  {
    name: 'volume mount without mountPath',
    base: 'template',
    set: { [`${C0}.volumeMounts`]: [{ name: 'data' }] },
    expect: ['spec.containers[0].volumeMounts[0].mountPath: Required value', RULES_NOT_CHECKED],
  },
  {
    name: '33 volumes',
    base: 'template',
    set: { 'spec.volumes': times(33, (i) => ({ name: `v${i}`, durableDir: {} })) },
    expect: ['spec.volumes: Too many: 33: must have at most 32 items', RULES_NOT_CHECKED],
  },
  {
    name: 'volume name not a DNS label',
    base: 'template',
    set: { 'spec.volumes': [{ name: 'Data', durableDir: {} }] },
    expect: ['spec.volumes[0].name: Name must be a valid DNS label'],
  },
  {
    name: 'volume without a source',
    base: 'template',
    set: { 'spec.volumes': [{ name: 'data' }] },
    expect: ['spec.volumes[0]: exactly one of the fields in [durableDir] must be set'],
  },
  {
    name: 'durableDir with a field',
    base: 'template',
    set: { 'spec.volumes': [{ name: 'data', durableDir: { size: '1Gi' } }] },
    expect: ['spec.volumes[0].durableDir.size: field not declared in schema'],
  },
  {
    name: 'two durableDir volumes',
    base: 'template',
    set: {
      'spec.volumes': [
        { name: 'a', durableDir: {} },
        { name: 'b', durableDir: {} },
      ],
    },
    expect: ['spec.volumes: At most one DurableDir-typed volume is supported per ActorTemplate'],
  },
  {
    name: 'container mounting a durableDir twice',
    base: 'template',
    set: {
      'spec.volumes': [{ name: 'data', durableDir: {} }],
      [`${C0}.volumeMounts`]: [
        { name: 'data', mountPath: '/a' },
        { name: 'data', mountPath: '/b' },
      ],
    },
    expect: ['spec.containers: A container may mount at most one DurableDir-typed volume'],
  },
  {
    name: 'durableDir on microvm',
    base: 'template',
    set: { 'spec.sandboxClass': 'microvm', 'spec.volumes': [{ name: 'data', durableDir: {} }] },
    expect: ["spec.volumes: DurableDir volumes are not supported when sandboxClass is 'microvm'"],
  },
  {
    name: 'missing snapshotsConfig',
    base: 'template',
    set: { 'spec.snapshotsConfig': undefined },
    expect: ['spec.snapshotsConfig: Required value', RULES_NOT_CHECKED],
  },
  {
    name: 'empty snapshot location',
    base: 'template',
    set: { 'spec.snapshotsConfig.location': '' },
    expect: ['spec.snapshotsConfig.location: Invalid value: "": should be at least 1 chars long'],
  },
  {
    name: 'unknown snapshot scope',
    base: 'template',
    set: { 'spec.snapshotsConfig.onPause': 'Partial' },
    expect: [
      'spec.snapshotsConfig.onPause: Unsupported value: "Partial": supported values: "Full", "Data"',
      RULES_NOT_CHECKED,
    ],
  },
  {
    name: 'onCommit Full with onPause Data',
    base: 'template',
    set: { 'spec.snapshotsConfig.onPause': 'Data', 'spec.snapshotsConfig.onCommit': 'Full' },
    expect: ['spec.snapshotsConfig.onCommit: onCommit must be a subset of onPause'],
  },
  {
    name: 'onPause Data with defaulted onCommit',
    base: 'template',
    set: { 'spec.snapshotsConfig.onPause': 'Data' },
    expect: ['spec.snapshotsConfig.onCommit: onCommit must be a subset of onPause'],
  },
  {
    name: 'workerPoolRef without name',
    base: 'template',
    set: { 'spec.workerPoolRef': { namespace: 'kagent' } },
    expect: ['spec.workerPoolRef.name: Required value', RULES_NOT_CHECKED],
  },
  {
    name: 'workerPoolRef name not a DNS subdomain',
    base: 'template',
    set: { 'spec.workerPoolRef': { name: 'Kagent_Default' } },
    expect: ['spec.workerPoolRef.name: Name must be a valid DNS subdomain'],
  },
  {
    name: 'workerPoolRef namespace not a DNS label',
    base: 'template',
    set: { 'spec.workerPoolRef': { name: 'p', namespace: 'kagent.system' } },
    expect: ['spec.workerPoolRef.namespace: Namespace must be a valid DNS label'],
  },
  {
    name: 'workerPoolRef kind (not supported)',
    base: 'template',
    set: { 'spec.workerPoolRef': { name: 'p', kind: 'WorkerPool' } },
    expect: ['spec.workerPoolRef.kind: field not declared in schema'],
  },
  {
    name: 'runsc on microvm',
    base: 'template',
    set: {
      'spec.sandboxClass': 'microvm',
      'spec.runsc': { amd64: { url: 'gs://b/runsc', sha256Hash: HEX64 } },
    },
    expect: ["spec.runsc: runsc is not supported when sandboxClass is 'microvm'"],
  },
  {
    name: 'runsc hash not lower-case hex',
    base: 'template',
    set: { 'spec.runsc': { amd64: { url: 'gs://b/runsc', sha256Hash: HEX64.toUpperCase() } } },
    expect: [
      `spec.runsc.amd64.sha256Hash: Invalid value: "${HEX64.toUpperCase()}": should match '^[a-f0-9]{64}$'`,
    ],
  },
  {
    name: 'runsc without url',
    base: 'template',
    set: { 'spec.runsc': { arm64: { sha256Hash: HEX64 } } },
    expect: ['spec.runsc.arm64.url: Required value', RULES_NOT_CHECKED],
  },
  {
    name: 'runsc with empty url',
    base: 'template',
    set: { 'spec.runsc': { arm64: { url: '', sha256Hash: HEX64 } } },
    expect: ['spec.runsc.arm64.url: Invalid value: "": should be at least 1 chars long'],
  },
  {
    name: 'empty runsc',
    base: 'template',
    set: { 'spec.runsc': {} },
    expect: ['spec.runsc: Invalid value: 0: should have at least 1 properties'],
  },
  {
    name: 'selector requirement without operator',
    base: 'template',
    set: { 'spec.workerSelector': { matchExpressions: [{ key: 'workload' }] } },
    expect: ['spec.workerSelector.matchExpressions[0].operator: Required value', RULES_NOT_CHECKED],
  },
  {
    name: 'condition status Maybe',
    base: 'template',
    set: { 'status.conditions': [{ ...condition, status: 'Maybe' }] },
    expect: [
      'status.conditions[0].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"',
      RULES_NOT_CHECKED,
    ],
  },
  {
    name: 'condition without reason',
    base: 'template',
    set: { 'status.conditions': [{ ...condition, reason: undefined }] },
    expect: ['status.conditions[0].reason: Required value', RULES_NOT_CHECKED],
  },
  {
    name: 'takeGoldenSnapshotAt not a date-time',
    base: 'template',
    set: { 'status.takeGoldenSnapshotAt': 'soon' },
    expect: ['status.takeGoldenSnapshotAt: Invalid value: "soon": must be of type date-time: "soon"'],
  },

  // ---- SandboxConfig ----
  {
    name: 'namespace on a cluster-scoped kind',
    base: 'config',
    set: { 'metadata.namespace': 'default' },
    expect: ['metadata.namespace: Forbidden: not allowed on this type'],
  },
  {
    name: 'asset sha256 not hex',
    base: 'config',
    set: { 'spec.assets.amd64.runsc.sha256': 'abc' },
    expect: ['spec.assets.amd64.runsc.sha256: Invalid value: "abc": should match \'^[a-f0-9]{64}$\''],
  },
  {
    name: 'asset without url',
    base: 'config',
    set: { 'spec.assets.amd64.runsc.url': undefined },
    expect: ['spec.assets.amd64.runsc.url: Required value'],
  },
  {
    name: 'gvisor arch without runsc',
    base: 'config',
    set: { 'spec.assets.arm64': { gvisor: { url: 'gs://bin/gvisor.tar', sha256: HEX64 } } },
    expect: [GVISOR_ASSETS],
  },
  { name: 'gvisor with empty assets', base: 'config', set: { 'spec.assets': {} }, expect: [GVISOR_ASSETS] },
  {
    name: 'gvisor without assets',
    base: 'config',
    set: { 'spec.assets': undefined },
    expect: [GVISOR_ASSETS],
  },
  {
    name: 'microvm without kata assets',
    base: 'config',
    set: { 'spec.sandboxClass': 'microvm' },
    expect: [
      'spec.assets: a microvm SandboxConfig must define cloud-hypervisor, virtiofsd, kata-kernel, kata-image, and kata-config assets for every architecture under spec.assets',
    ],
  },
  {
    name: 'default as string',
    base: 'config',
    set: { 'spec.default': 'yes' },
    expect: ['spec.default: Invalid value: "string": must be of type boolean'],
  },
  {
    name: 'config sandbox class kvm',
    base: 'config',
    set: { 'spec.sandboxClass': 'kvm' },
    expect: ['spec.sandboxClass: Unsupported value: "kvm": supported values: "gvisor", "microvm"'],
  },
];

/** Edits that keep the object valid: the edge cases each limit and rule must still accept. */
export const VALID_CASES: readonly Omit<InvalidCase, 'expect'>[] = [
  { name: '0 replicas', base: 'pool', set: { 'spec.replicas': 0 } },
  {
    name: '16 tolerations',
    base: 'pool',
    set: { 'spec.template.tolerations': times(16, () => ({ operator: 'Exists' })) },
  },
  {
    name: 'full pod template',
    base: 'pool',
    set: {
      'spec.sandboxClass': 'microvm',
      'spec.sandboxConfigName': 'kata',
      'spec.template': {
        nodeSelector: { pool: 'workers' },
        tolerations: [
          { key: 'ate.dev/sandboxClass', operator: 'Equal', value: 'microvm', effect: 'NoSchedule' },
        ],
        priorityClassName: 'high',
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] },
            ],
          },
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 10,
              preference: { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] },
            },
          ],
        },
        resources: {
          requests: { cpu: '500m', memory: '1Gi' },
          limits: { cpu: 2, 'example.com/gpu': '1' },
          claims: [{ name: 'gpu' }],
        },
      },
    },
  },
  {
    name: '10 containers',
    base: 'template',
    set: { 'spec.containers': times(10, (i) => ({ name: `c${i}`, image: `app@sha256:${i}` })) },
  },
  { name: 'container name of 63 characters', base: 'template', set: { [`${C0}.name`]: 'a'.repeat(63) } },
  {
    name: 'env from a secret and an empty literal',
    base: 'template',
    set: {
      [`${C0}.env`]: [
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'api.keys', key: 'token.v1', optional: true } } },
        { name: 'EMPTY', value: '' },
        { name: 'with space <>', value: '$(NOT_EXPANDED)' },
      ],
    },
  },
  ...['/data', '/a/b.c', '/a/..b', '/.hidden', '/a/b...'].map((p) => ({
    name: `mountPath ${p}`,
    base: 'template' as const,
    set: mount(p),
  })),
  ...['/', '/readyz', '/.well-known/agent-card.json', '/a%2Fb', "/x;y=1,z@!$&'()*+~"].map((path) => ({
    name: `readyz path ${path}`,
    base: 'template' as const,
    set: { [`${C0}.readyz`]: { httpGet: { path, port: 65535 } } },
  })),
  { name: 'onPause Full, onCommit Data', base: 'template', set: { 'spec.snapshotsConfig.onCommit': 'Data' } },
  {
    name: 'onPause Data, onCommit Data',
    base: 'template',
    set: { 'spec.snapshotsConfig.onPause': 'Data', 'spec.snapshotsConfig.onCommit': 'Data' },
  },
  {
    name: 'one durableDir mounted by two containers',
    base: 'template',
    set: {
      'spec.volumes': [{ name: 'data', durableDir: {} }],
      'spec.containers': [
        { name: 'a', image: 'a@sha256:0', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
        {
          name: 'b',
          image: 'b@sha256:0',
          volumeMounts: [
            { name: 'data', mountPath: '/srv/data' },
            { name: 'other', mountPath: '/other' },
          ],
        },
      ],
    },
  },
  { name: 'microvm without durableDir', base: 'template', set: { 'spec.sandboxClass': 'microvm' } },
  {
    name: 'workerPoolRef with workerSelector and runsc',
    base: 'template',
    set: {
      'spec.workerPoolRef': { name: 'kagent-default', namespace: 'kagent' },
      'spec.workerSelector': {
        matchLabels: { 'kagent.dev/worker-pool': 'kagent-default' },
        matchExpressions: [{ key: 'tier', operator: 'Exists' }],
      },
      'spec.runsc': { amd64: { url: 'gs://b/runsc', sha256Hash: HEX64 } },
    },
  },
  {
    name: 'status with a Ready condition',
    base: 'template',
    set: {
      status: {
        phase: 'Ready',
        goldenActorID: 'g',
        goldenSnapshot: 'gs://b/p/g',
        takeGoldenSnapshotAt: '2026-06-30T12:00:20.5+02:00',
        conditions: [condition],
      },
    },
  },
  {
    name: 'microvm config with every kata asset',
    base: 'config',
    set: {
      'spec.sandboxClass': 'microvm',
      'spec.assets': Object.fromEntries(
        ['amd64', 'arm64'].map((arch) => [
          arch,
          Object.fromEntries(
            ['cloud-hypervisor', 'virtiofsd', 'kata-kernel', 'kata-image', 'kata-config', 'kata-shim'].map(
              (n) => [n, { url: `gs://kata/${arch}/${n}`, sha256: HEX64 }],
            ),
          ),
        ]),
      ),
    },
  },
  {
    name: 'gvisor config with extra assets',
    base: 'config',
    set: {
      'spec.default': true,
      'spec.assets.amd64.gvisor': { url: 'gs://bin/gvisor.tar.zst', sha256: HEX64 },
    },
  },
];
