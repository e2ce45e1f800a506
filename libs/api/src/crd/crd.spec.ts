import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type Json } from '../schema/schema';
import { KINDS } from '../v1alpha1/kinds';
import { sandboxConfigAssetRules } from '../v1alpha1/sandboxconfig';
import { customResourceDefinition, renderCrdFiles, sandboxConfigAssetsPolicy } from './crd';

type Node = { [key: string]: Json };
const CRD_DIR = join(__dirname, '../../../../deploy/crds');
const files = renderCrdFiles();

describe('deploy/crds', () => {
  it('is what the generator produces', () => {
    const committed = readdirSync(CRD_DIR).sort();
    const stale = [...files]
      .filter(
        ([name, text]) => !committed.includes(name) || readFileSync(join(CRD_DIR, name), 'utf8') !== text,
      )
      .map(([name]) => name);
    const extra = committed.filter((name) => !files.has(name));
    if (stale.length || extra.length)
      throw new Error(
        `deploy/crds is out of date (${[...stale, ...extra].join(', ')}). Regenerate with: npx nx run api:generate`,
      );
  });

  it('holds one CRD per kind plus the admission policy, each parseable YAML', () => {
    expect([...files.keys()]).toEqual([
      'ate.dev_actortemplates.yaml',
      'ate.dev_sandboxconfigs.yaml',
      'ate.dev_workerpools.yaml',
      'sandboxconfig-assets-policy.yaml',
    ]);
    for (const text of files.values())
      for (const doc of parseAllDocuments(text) as unknown as { errors: unknown[] }[])
        expect(doc.errors).toEqual([]);
  });
});

/** Every structural-schema rule the API server enforces on a CRD, as a list of violations. */
function structuralViolations(node: Node, path: string): string[] {
  const out: string[] = [];
  const intOrString = node['x-kubernetes-int-or-string'] === true;
  if (!node['type'] && !intOrString) out.push(`${path}: no type`);
  if (node['properties'] && node['additionalProperties'])
    out.push(`${path}: properties and additionalProperties`);
  if (node['type'] === 'array' && !node['items']) out.push(`${path}: array without items`);
  if (node['x-kubernetes-list-map-keys'] && node['x-kubernetes-list-type'] !== 'map')
    out.push(`${path}: map keys on a non-map list`);
  if (intOrString && JSON.stringify(node['anyOf']) !== '[{"type":"integer"},{"type":"string"}]')
    out.push(`${path}: anyOf`);
  for (const v of (node['x-kubernetes-validations'] ?? []) as Node[])
    if (typeof v['rule'] !== 'string' || typeof v['message'] !== 'string')
      out.push(`${path}: incomplete validation`);
  for (const [k, child] of Object.entries((node['properties'] ?? {}) as Record<string, Node>))
    out.push(...structuralViolations(child, `${path}.${k}`));
  if (node['items']) out.push(...structuralViolations(node['items'] as Node, `${path}[*]`));
  if (typeof node['additionalProperties'] === 'object')
    out.push(...structuralViolations(node['additionalProperties'] as Node, `${path}{*}`));
  return out;
}

const collect = (node: Node, key: string): Json[] => [
  ...(key in node ? [node[key] as Json] : []),
  ...Object.values(node).flatMap((v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? collect(v as Node, key) : [],
  ),
];

describe.each(Object.values(KINDS).map((info) => [info.kind, info] as const))('%s CRD', (_, info) => {
  const crd = customResourceDefinition(info) as Node & { spec: Node & { versions: Node[] } };
  const version = crd.spec.versions[0] as Node & { schema: { openAPIV3Schema: Node } };
  const schema = version.schema.openAPIV3Schema;

  it('is a valid structural schema', () => {
    expect(structuralViolations(schema, '')).toEqual([]);
    expect(schema['properties']).toHaveProperty('metadata', { type: 'object' });
    expect(schema['required']).toEqual(['spec']);
  });

  it('has the names, scope, columns and subresources of the reference', () => {
    expect(crd.spec['names']).toEqual({
      kind: info.kind,
      listKind: `${info.kind}List`,
      plural: info.plural,
      shortNames: [info.singular],
      singular: info.singular,
    });
    expect(crd.spec['scope']).toBe(info.scope);
    expect(version['additionalPrinterColumns']).toEqual(info.printerColumns.map((c) => ({ ...c })));
    expect(version['subresources']).toEqual(
      {
        WorkerPool: {
          status: {},
          scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
        },
        ActorTemplate: { status: {} },
        SandboxConfig: undefined,
      }[info.kind],
    );
  });

  it('defaults sandboxClass to gvisor', () => {
    const spec = (schema['properties'] as Record<string, Node>)['spec'] as Node;
    expect((spec['properties'] as Record<string, Node>)['sandboxClass']).toMatchObject({
      default: 'gvisor',
      enum: ['gvisor', 'microvm'],
    });
  });
});

describe('ActorTemplate CRD specifics', () => {
  const schema =
    (
      customResourceDefinition(KINDS.ActorTemplate) as {
        spec: { versions: { schema: { openAPIV3Schema: Node } }[] };
      }
    ).spec.versions[0]?.schema.openAPIV3Schema ?? {};
  const spec = (schema['properties'] as Record<string, Node>)['spec'] as Node;

  it('makes spec immutable with a transition rule', () => {
    expect(spec['x-kubernetes-validations']).toContainEqual({
      message: 'Spec is immutable',
      rule: 'self == oldSelf',
    });
  });

  it('publishes every CEL rule with its message', () => {
    const messages = collect(schema, 'x-kubernetes-validations').flatMap((v) =>
      (v as Node[]).map((r) => r['message']),
    );
    expect(messages).toEqual(
      expect.arrayContaining([
        'All images must be pinned (changing the image invalidates snapshots)',
        'At most one DurableDir-typed volume is supported per ActorTemplate',
        'A container may mount at most one DurableDir-typed volume',
        "DurableDir volumes are not supported when sandboxClass is 'microvm'",
        "runsc is not supported when sandboxClass is 'microvm'",
        'onCommit must be a subset of onPause',
        'exactly one of the fields in [value valueFrom] must be set',
        'exactly one of the fields in [durableDir] must be set',
        'Name must be a valid DNS label',
        'Name must be a valid DNS subdomain',
        'Namespace must be a valid DNS label',
      ]),
    );
    expect(messages).toHaveLength(17);
  });

  it('keeps the list limits and list types of the reference', () => {
    const props = spec['properties'] as Record<string, Node>;
    const container = (props['containers'] as Node)['items'] as Node & { properties: Record<string, Node> };
    expect(props['containers']).toMatchObject({ maxItems: 10 });
    expect(props['volumes']).toMatchObject({ maxItems: 32 });
    expect(container.properties['command']).toMatchObject({
      maxItems: 64,
      'x-kubernetes-list-type': 'atomic',
    });
    expect(container.properties['env']).toMatchObject({ maxItems: 32 });
    expect(container.properties['volumeMounts']).toMatchObject({ maxItems: 32 });
    expect(props['workerSelector']).toMatchObject({ 'x-kubernetes-map-type': 'atomic' });
  });
});

describe('WorkerPool CRD specifics', () => {
  it('limits tolerations to 16, atomic', () => {
    const text = files.get('ate.dev_workerpools.yaml') ?? '';
    expect(text).toMatch(/tolerations:\n(\s+)description: Tolerations of the worker pods\.\n\1items:/);
    const crd = customResourceDefinition(KINDS.WorkerPool) as {
      spec: { versions: { schema: { openAPIV3Schema: Node } }[] };
    };
    const tolerations = collect(crd.spec.versions[0]?.schema.openAPIV3Schema ?? {}, 'tolerations')[0];
    expect(tolerations).toMatchObject({ maxItems: 16, type: 'array', 'x-kubernetes-list-type': 'atomic' });
  });
});

describe('sandboxconfig-assets admission policy', () => {
  const [policy, binding] = sandboxConfigAssetsPolicy() as [Node & { spec: Node }, Node & { spec: Node }];

  it('fails closed on create and update of SandboxConfigs', () => {
    expect(policy['kind']).toBe('ValidatingAdmissionPolicy');
    expect(policy.spec['failurePolicy']).toBe('Fail');
    expect(policy.spec['matchConstraints']).toEqual({
      resourceRules: [
        {
          apiGroups: ['ate.dev'],
          apiVersions: ['v1alpha1'],
          operations: ['CREATE', 'UPDATE'],
          resources: ['sandboxconfigs'],
        },
      ],
    });
    expect(binding).toMatchObject({
      kind: 'ValidatingAdmissionPolicyBinding',
      spec: { policyName: 'sandboxconfig-assets', validationActions: ['Deny'] },
    });
  });

  it('publishes exactly the rules the runtime validator enforces', () => {
    expect(policy.spec['validations']).toEqual(
      sandboxConfigAssetRules.map(({ expression, message }) => ({ expression, message })),
    );
  });
});
