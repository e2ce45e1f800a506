import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { REPO_ROOT, describeWithComponents, jestKubeconfig } from '@substrate/testing';
import { parseAllDocuments } from 'yaml';
import { KINDS, parseManifests, validateObject, type SubstrateObject } from '../index';
import { RULES_NOT_CHECKED } from '../schema/validate';
import { INVALID_CASES, edit, type InvalidCase } from '../testdata/cases';

const CRD_DIR = join(REPO_ROOT, 'deploy/crds');
const TESTDATA = join(__dirname, '../testdata');
const POLICY_DENIAL = "ValidatingAdmissionPolicy 'sandboxconfig-assets'";

interface Clients {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  crds: ApiextensionsV1Api;
}

function clients(): Clients {
  const kc = new KubeConfig();
  kc.loadFromFile(jestKubeconfig());
  return {
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    crds: kc.makeApiClient(ApiextensionsV1Api),
  };
}

/**
 * Creates a cluster-scoped object of any group exactly as written. (The typed clients, including
 * KubernetesObjectApi, re-serialise through their models and drop JSON-schema keys such as `default`.)
 */
async function createRaw(c: Clients, obj: KubernetesObject): Promise<void> {
  const [group = '', version = ''] = (obj.apiVersion ?? '').split('/');
  const plural = (obj.kind ?? '').toLowerCase().replace(/y$/, 'ie') + 's';
  await c.custom.createClusterCustomObject({ group, version, plural, body: obj });
}

/** Creates an object of ours through the API server (strict field validation); `dryRun` stores nothing. */
async function createCustom(c: Clients, obj: Record<string, unknown>, dryRun: boolean): Promise<unknown> {
  const kind = KINDS[obj['kind'] as keyof typeof KINDS];
  const metadata = (obj['metadata'] ?? {}) as { namespace?: string };
  const common = {
    group: 'ate.dev',
    version: 'v1alpha1',
    plural: kind.plural,
    body: JSON.parse(JSON.stringify(obj)) as object, // a plain object of this realm (edit() uses structuredClone)
    fieldValidation: 'Strict',
    ...(dryRun ? { dryRun: 'All' } : {}),
  };
  return kind.scope === 'Namespaced'
    ? c.custom.createNamespacedCustomObject({ ...common, namespace: metadata.namespace ?? 'default' })
    : c.custom.createClusterCustomObject(common);
}

/** The API server's rejection of `obj` (status code and message), or undefined when it accepts it. */
async function rejection(
  c: Clients,
  obj: Record<string, unknown>,
): Promise<{ code: number; message: string } | undefined> {
  try {
    await createCustom(c, obj, true);
    return undefined;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body = typeof err.body === 'string' ? (JSON.parse(err.body) as { message?: string }) : {};
    return { code: err.code, message: body.message ?? String(err.body) };
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'condition false';
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Cases the API server can judge from a create request: errors under `spec` (status is ignored on create
 * with a status subresource, and metadata namespace/name come from the URL path).
 */
function serverJudgeable(c: InvalidCase): boolean {
  return c.expect.every((line) => line.startsWith('spec') || line === RULES_NOT_CHECKED);
}

describeWithComponents(['kube-apiserver', 'etcd'], 'the generated CRDs on a real kube-apiserver', () => {
  let c: Clients;

  beforeAll(async () => {
    c = clients();
    const files = readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'));
    for (const file of files) {
      for (const doc of parseAllDocuments(readFileSync(join(CRD_DIR, file), 'utf8'))) {
        await createRaw(c, doc.toJS() as KubernetesObject);
      }
    }
    for (const kind of Object.values(KINDS)) {
      const name = `${kind.plural}.ate.dev`;
      await waitFor(`${name} to be established`, async () => {
        const crd = await c.crds.readCustomResourceDefinition({ name });
        return (crd.status?.conditions ?? []).some((x) => x.type === 'Established' && x.status === 'True');
      });
    }
    for (const ns of ['ns', 'kagent', 'ate-demo-counter']) {
      await c.core.createNamespace({ body: { metadata: { name: ns } } });
    }
    // The admission policy takes effect asynchronously: wait until it denies a config without runsc.
    const noRunsc = edit('config', { 'spec.assets': { amd64: {} } });
    await waitFor('the SandboxConfig admission policy', async () => {
      const rejected = await rejection(c, noRunsc);
      if (!rejected?.message.includes(POLICY_DENIAL)) throw new Error(`answer: ${JSON.stringify(rejected)}`);
      return true;
    });
  });

  it('accepts the seed manifests, and the server applies the same defaults as the validator', async () => {
    const files = [
      'kagent-default.workerpool.yaml',
      'hello-substrate.actortemplate.yaml',
      'counter-demo.yaml',
      'gvisor-default.sandboxconfig.yaml',
    ];
    for (const file of files) {
      const text = readFileSync(join(TESTDATA, file), 'utf8');
      const raw = parseAllDocuments(text)
        .map((d) => d.toJS() as Record<string, unknown>)
        .filter((o) => o['apiVersion'] === 'ate.dev/v1alpha1');
      const ours: SubstrateObject[] = parseManifests(text, { skipForeign: true });
      expect(ours).toHaveLength(raw.length);
      for (const [i, obj] of raw.entries()) {
        const stored = (await createCustom(c, obj, false)) as { spec: unknown };
        expect({ file, spec: stored.spec }).toEqual({ file, spec: ours[i]?.spec });
      }
    }
  });

  const judged = INVALID_CASES.filter(serverJudgeable);

  it('has enough server-judgeable invalid cases to mean something', () => {
    expect(judged.length).toBeGreaterThanOrEqual(60);
  });

  it.each(judged.map((x) => [x.name, x] as const))('rejects like the validator: %s', async (_name, x) => {
    const obj = edit(x.base, x.set);
    expect(() => validateObject(obj)).toThrow();
    const rejected = await rejection(c, obj);
    expect(rejected).toBeDefined();
    expect([400, 422]).toContain(rejected?.code);
    for (const line of x.expect) {
      if (line === RULES_NOT_CHECKED) {
        expect(rejected?.message).toContain(RULES_NOT_CHECKED);
        continue;
      }
      const path = line.slice(0, line.indexOf(':'));
      const message = line.slice(path.length + 2);
      if (rejected?.message.includes(POLICY_DENIAL)) {
        // The policy's denial names no field, but carries the same message as ours.
        expect(rejected.message).toContain(message.replace(/^spec\.assets: /, ''));
      } else {
        // Strict decoding names an unknown field without its parent path.
        expect(rejected?.message).toContain(path === 'spec.foo' ? 'unknown field "spec.foo"' : path);
      }
    }
  });
});
