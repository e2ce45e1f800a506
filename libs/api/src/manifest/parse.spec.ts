import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIssue, ManifestSyntaxError, ValidationError } from '../errors';
import { loadManifestDir, loadManifestFile } from './load';
import { parseActorTemplate, parseManifests, parseSandboxConfig, parseWorkerPool, toYaml } from './parse';

const TESTDATA = join(__dirname, '../testdata');
const read = (name: string) => readFileSync(join(TESTDATA, name), 'utf8');

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('kagent seed manifests', () => {
  it('accepts the kagent-default WorkerPool', () => {
    const pool = parseWorkerPool(read('kagent-default.workerpool.yaml'));
    expect(pool.metadata).toEqual({
      name: 'kagent-default',
      namespace: 'kagent',
      labels: { 'kagent.dev/worker-pool': 'kagent-default' },
    });
    expect(pool.spec).toEqual({
      replicas: 3,
      ateomImage: 'ghcr.io/kagent-dev/substrate/ateom-gvisor:v0.0.6',
      sandboxClass: 'gvisor',
    });
  });

  it('accepts the hello-substrate ActorTemplate with workerPoolRef and runsc', () => {
    const t = parseActorTemplate(read('hello-substrate.actortemplate.yaml'));
    expect(t.metadata.name).toBe('hello-substrate');
    expect(t.spec.containers).toEqual([
      {
        name: 'hello',
        image: expect.stringMatching(/^ghcr\.io\/kagent-dev\/hello-substrate@sha256:[0-9a-f]{64}$/),
        command: ['/app'],
      },
    ]);
    expect(t.spec.pauseImage).toContain('@sha256:');
    expect(t.spec.snapshotsConfig.location).toBe('gs://ate-snapshots/kagent/hello-substrate');
    expect(t.spec.workerPoolRef).toEqual({ name: 'kagent-default', namespace: 'kagent' });
    expect(Object.keys(t.spec.runsc ?? {})).toEqual(['amd64', 'arm64']);
    expect(t.spec.runsc?.['amd64']).toEqual({
      url: 'gs://gvisor/releases/release/20260622/x86_64/runsc',
      sha256Hash: 'f18a948bf9c8bbb54eb998549a3a8d719a1c7de2efbe8fdd2ff0ee5fecd06f19',
    });
  });

  it('accepts the upstream counter demo next to a Namespace when foreign objects are skipped', () => {
    const objects = parseManifests(read('counter-demo.yaml'), { skipForeign: true });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'WorkerPool/counter',
      'ActorTemplate/counter',
    ]);
    const [, template] = objects;
    expect(template?.kind === 'ActorTemplate' && template.spec.volumes).toEqual([
      { name: 'data', durableDir: {} },
    ]);
  });

  it('accepts the default gVisor SandboxConfig', () => {
    const config = parseSandboxConfig(read('gvisor-default.sandboxconfig.yaml'));
    expect(config.metadata).toEqual({ name: 'gvisor-default' });
    expect(config.spec.default).toBe(true);
    expect(Object.keys(config.spec.assets ?? {})).toEqual(['amd64', 'arm64']);
  });
});

describe('defaults', () => {
  it('are applied as the API server applies them', () => {
    const t = parseActorTemplate(read('hello-substrate.actortemplate.yaml'));
    expect(t.spec.sandboxClass).toBe('gvisor');
    expect(t.spec.snapshotsConfig).toEqual({
      location: 'gs://ate-snapshots/kagent/hello-substrate',
      onPause: 'Full',
      onCommit: 'Full',
    });
    expect(parseWorkerPool(read('kagent-default.workerpool.yaml')).spec.sandboxClass).toBe('gvisor');
    expect(parseSandboxConfig(read('gvisor-default.sandboxconfig.yaml')).spec.sandboxClass).toBe('gvisor');
  });

  it('fill the readyz path only inside a readyz that is present', () => {
    const t = parseActorTemplate(`
apiVersion: ate.dev/v1alpha1
kind: ActorTemplate
metadata: {name: t, namespace: ns}
spec:
  pauseImage: pause@sha256:0
  snapshotsConfig: {location: gs://b/p, onCommit: Data}
  containers:
    - {name: probed, image: a@sha256:0, readyz: {httpGet: {port: 8081}}}
    - {name: plain, image: b@sha256:0}
`);
    expect(t.spec.containers?.[0]?.readyz).toEqual({ httpGet: { path: '/readyz', port: 8081 } });
    expect(t.spec.containers?.[1]).toEqual({ name: 'plain', image: 'b@sha256:0' });
    expect(t.spec.snapshotsConfig.onCommit).toBe('Data');
  });

  it('treat null as absent', () => {
    const pool = parseWorkerPool(
      'apiVersion: ate.dev/v1alpha1\nkind: WorkerPool\nmetadata: {name: p, namespace: ns, creationTimestamp: null}\nspec: {replicas: 1, ateomImage: i, sandboxClass: null, template: null}\n',
    );
    expect(pool.spec).toEqual({ replicas: 1, ateomImage: 'i', sandboxClass: 'gvisor' });
    expect(pool.metadata).toEqual({ name: 'p', namespace: 'ns' });
  });
});

describe('round trip', () => {
  it.each([
    'kagent-default.workerpool.yaml',
    'hello-substrate.actortemplate.yaml',
    'counter-demo.yaml',
    'gvisor-default.sandboxconfig.yaml',
  ])('%s: parse → toYaml → parse is stable', (file) => {
    const once = parseManifests(read(file), { skipForeign: true });
    const yaml = toYaml(once);
    expect(parseManifests(yaml)).toEqual(once);
    expect(toYaml(parseManifests(yaml))).toBe(yaml);
    expect(parseManifests(JSON.stringify(once[0]))).toEqual(once.slice(0, 1));
  });
});

describe('streams', () => {
  const pool = read('kagent-default.workerpool.yaml');
  const template = read('hello-substrate.actortemplate.yaml');

  it('dispatches a mixed stream on apiVersion and kind, skipping empty documents', () => {
    const objects = parseManifests(`---\n${template}---\n# nothing here\n---\n${pool}\n---\n`);
    expect(objects.map((o) => o.kind)).toEqual(['ActorTemplate', 'WorkerPool']);
  });

  it('flattens a v1 List', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: parseManifests(`${pool}---\n${template}`) };
    expect(parseManifests(JSON.stringify(list)).map((o) => o.kind)).toEqual(['WorkerPool', 'ActorTemplate']);
  });

  it('returns nothing for an empty stream', () => {
    expect(parseManifests('')).toEqual([]);
    expect(parseManifests('# only a comment\n')).toEqual([]);
  });

  it('names the document of a bad object', () => {
    const bad = pool.replace('replicas: 3', 'replicas: -3');
    const error = thrown(() => parseManifests(`${template}---\n${bad}`, { file: 'pools.yaml' }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).source).toEqual({ file: 'pools.yaml', document: 2 });
    expect((error as Error).message).toBe(
      'pools.yaml (document 2): WorkerPool.ate.dev "kagent-default" is invalid: spec.replicas: Invalid value: -3: should be greater than or equal to 0',
    );
  });

  it('rejects a foreign object unless told to skip it', () => {
    const error = thrown(() => parseManifests(read('counter-demo.yaml'))) as ValidationError;
    expect(error.issues.map(formatIssue)).toEqual([
      'apiVersion: Unsupported value: "v1": supported values: "ate.dev/v1alpha1"',
      'kind: Unsupported value: "Namespace": supported values: "ActorTemplate", "SandboxConfig", "WorkerPool"',
    ]);
    expect(error.source?.document).toBe(1);
  });

  it('parse<Kind> wants exactly one object of that kind', () => {
    expect((thrown(() => parseWorkerPool(template)) as ValidationError).issues.map(formatIssue)).toEqual([
      'kind: Unsupported value: "ActorTemplate": supported values: "WorkerPool"',
    ]);
    expect((thrown(() => parseWorkerPool(`${pool}---\n${pool}`)) as Error).message).toBe(
      'WorkerPool.ate.dev is invalid: expected exactly one WorkerPool, found 2 objects',
    );
    expect((thrown(() => parseWorkerPool('')) as ValidationError).code).toBe('INVALID_OBJECT');
  });
});

describe('syntax errors', () => {
  it.each([
    ['an unclosed flow sequence', 'apiVersion: ate.dev/v1alpha1\nspec:\n  containers: [a, b\n', 4, 1],
    ['a duplicate key', 'kind: WorkerPool\nspec:\n  replicas: 1\n  replicas: 2\n', 4, 3],
    ['bad indentation', 'spec:\n  replicas: 1\n ateomImage: x\n', 3, 1],
    ['an unterminated quote', 'kind: WorkerPool\nspec: {ateomImage: "ateom\n', 3, 1],
    ['broken JSON', '{"kind": "WorkerPool", "spec": {"replicas": 1,, }}', 1, 47],
  ])('reports %s with line and column', (_, text, line, column) => {
    const error = thrown(() => parseManifests(text, { file: 'pool.yaml' }));
    expect(error).toBeInstanceOf(ManifestSyntaxError);
    const e = error as ManifestSyntaxError;
    expect(e.code).toBe('MANIFEST_SYNTAX');
    expect([e.line, e.column]).toEqual([line, column]);
    expect(e.message).toMatch(new RegExp(`^pool\\.yaml:${line}:${column}: \\S`));
  });
});

describe('loading files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'substrate-api-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every manifest of a directory in name order', async () => {
    const objects = await loadManifestDir(TESTDATA, { skipForeign: true });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'WorkerPool/counter',
      'ActorTemplate/counter',
      'SandboxConfig/gvisor-default',
      'ActorTemplate/hello-substrate',
      'WorkerPool/kagent-default',
    ]);
  });

  it('names the file of a bad manifest and reads subdirectories when asked', async () => {
    await writeFile(join(dir, 'notes.txt'), 'not a manifest');
    await writeFile(join(dir, 'pool.yaml'), read('kagent-default.workerpool.yaml'));
    expect(await loadManifestDir(dir)).toHaveLength(1);
    const nested = join(dir, 'nested');
    await mkdir(nested);
    await writeFile(join(nested, 'bad.yml'), 'kind: [');
    expect(await loadManifestDir(dir)).toHaveLength(1);
    await expect(loadManifestDir(dir, { recursive: true })).rejects.toThrow(
      `${join(nested, 'bad.yml')}:1:8:`,
    );
    await expect(loadManifestFile(join(dir, 'missing.yaml'))).rejects.toThrow(/ENOENT/);
  });
});
