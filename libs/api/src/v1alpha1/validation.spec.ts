import { ApiError, formatIssue, ValidationError } from '../errors';
import { validateObject, validateObjectOf, validateUpdate } from '../manifest/decode';
import { BASES, edit, INVALID_CASES, VALID_CASES } from '../testdata/cases';
import { type ActorTemplate } from './actortemplate';
import { type WorkerPool } from './workerpool';

/** The `path: message` lines of the ValidationError `f` throws, or [] when it does not throw. */
function issuesOf(f: () => unknown): string[] {
  try {
    f();
    return [];
  } catch (e) {
    if (e instanceof ValidationError) return e.issues.map(formatIssue);
    throw e;
  }
}

describe('invalid objects', () => {
  it('the table covers every kind with at least 40 distinct inputs', () => {
    expect(new Set(INVALID_CASES.map((c) => c.name)).size).toBe(INVALID_CASES.length);
    expect(INVALID_CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(INVALID_CASES.map((c) => c.base))).toEqual(new Set(Object.keys(BASES)));
  });

  it.each(INVALID_CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expect(issuesOf(() => validateObject(edit(c.base, c.set)))).toEqual(c.expect);
  });
});

describe('valid edge cases', () => {
  it.each((Object.keys(BASES) as (keyof typeof BASES)[]).map((b) => [b] as const))('base %s', (base) => {
    expect(issuesOf(() => validateObject(edit(base, {})))).toEqual([]);
  });

  it.each(VALID_CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expect(issuesOf(() => validateObject(edit(c.base, c.set)))).toEqual([]);
  });
});

describe('ValidationError', () => {
  it('lists every issue, names the object and has a stable code', () => {
    const bad = edit('pool', { 'spec.replicas': -1, 'spec.sandboxClass': 'kvm' });
    let error: unknown;
    try {
      validateObject(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toBeInstanceOf(ApiError);
    const v = error as ValidationError;
    expect(v.code).toBe('INVALID_OBJECT');
    expect(v.object).toEqual({ kind: 'WorkerPool', namespace: 'ns', name: 'pool' });
    expect(v.issues).toEqual([
      {
        path: 'spec.replicas',
        type: 'invalid',
        message: 'Invalid value: -1: should be greater than or equal to 0',
      },
      {
        path: 'spec.sandboxClass',
        type: 'unsupported',
        message: 'Unsupported value: "kvm": supported values: "gvisor", "microvm"',
      },
    ]);
    expect(v.message).toBe(
      'WorkerPool.ate.dev "pool" is invalid: [spec.replicas: Invalid value: -1: should be greater than or equal to 0, spec.sandboxClass: Unsupported value: "kvm": supported values: "gvisor", "microvm"]',
    );
  });

  it('reports CEL failures as rules and unknown fields as such', () => {
    const error = (() => {
      try {
        validateObject(edit('template', { 'spec.pauseImage': 'pause:3', 'spec.bogus': true }));
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error('expected a ValidationError');
    })();
    expect(error.issues.map((i) => i.type)).toEqual(['unknownField', 'rule']);
  });

  it('rejects a non-object', () => {
    expect(issuesOf(() => validateObject('WorkerPool'))).toEqual([
      'Invalid value: "WorkerPool": must be of type object',
    ]);
    expect(issuesOf(() => validateObject([]))).toEqual(['Invalid value: "array": must be of type object']);
  });
});

describe('validateObjectOf', () => {
  it('accepts only the requested kind', () => {
    expect(issuesOf(() => validateObjectOf('WorkerPool', edit('template', {})))).toEqual([
      'kind: Unsupported value: "ActorTemplate": supported values: "WorkerPool"',
    ]);
    expect(validateObjectOf('WorkerPool', edit('pool', {})).spec.replicas).toBe(1);
  });
});

describe('metadata', () => {
  it('gives namespaced objects without a namespace the default namespace', () => {
    const pool = validateObject(edit('pool', { 'metadata.namespace': undefined }), { namespace: 'kagent' });
    expect(pool.metadata.namespace).toBe('kagent');
    expect(validateObject(edit('config', {}), { namespace: 'kagent' }).metadata.namespace).toBeUndefined();
  });

  it.each([
    [
      'label key with two slashes',
      { 'metadata.labels': { 'a/b/c': 'x' } },
      "metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ],
    [
      'label key with an empty prefix',
      { 'metadata.labels': { '/x': 'y' } },
      'metadata.labels: Invalid value: "/x": prefix part must be non-empty',
    ],
    [
      'label value too long',
      { 'metadata.labels': { k: 'v'.repeat(64) } },
      `metadata.labels: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`,
    ],
    [
      'annotation key with spaces',
      { 'metadata.annotations': { 'bad key': 'x' } },
      "metadata.annotations: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ],
    ['metadata missing', { metadata: undefined }, 'metadata: Required value'],
    ['unknown metadata field', { 'metadata.nmae': 'x' }, 'metadata.nmae: field not declared in schema'],
  ])('%s', (_, set, message) => {
    expect(issuesOf(() => validateObject(edit('pool', set)))).toEqual([message]);
  });

  it('accepts what the API server returns on a read', () => {
    const stored = edit('pool', {
      'metadata.uid': '4d0c8f3e-0000-4000-8000-000000000000',
      'metadata.resourceVersion': '42',
      'metadata.generation': 3,
      'metadata.creationTimestamp': '2026-06-30T12:00:00Z',
      'metadata.labels': { 'kagent.dev/worker-pool': 'kagent-default', empty: '' },
      'metadata.annotations': { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      'metadata.ownerReferences': [
        { apiVersion: 'v1', kind: 'Namespace', name: 'ns', uid: 'u', controller: true },
      ],
      'metadata.finalizers': ['ate.dev/cleanup'],
      'metadata.managedFields': [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
      'status.replicas': 1,
    });
    expect(issuesOf(() => validateObject(stored))).toEqual([]);
  });
});

describe('validateUpdate', () => {
  const template = validateObject(edit('template', {})) as ActorTemplate;

  it('rejects any change of an ActorTemplate spec', () => {
    const changed = edit('template', { 'spec.containers.0.command': ['/other'] });
    expect(issuesOf(() => validateUpdate(template, changed))).toEqual(['spec: Spec is immutable']);
  });

  it('allows status and label changes, and defaults spelled out', () => {
    const next = edit('template', {
      'metadata.labels': { app: 'x' },
      'spec.sandboxClass': 'gvisor',
      'spec.snapshotsConfig.onPause': 'Full',
      'spec.snapshotsConfig.onCommit': 'Full',
      status: { phase: 'Ready' },
    });
    expect(validateUpdate(template, next).status).toEqual({ phase: 'Ready' });
  });

  it('still validates the new object', () => {
    expect(
      issuesOf(() => validateUpdate(template, edit('template', { 'spec.pauseImage': 'pause' }))),
    ).toEqual(['spec.pauseImage: All images must be pinned (changing the image invalidates snapshots)']);
  });

  it('keeps name and namespace', () => {
    expect(issuesOf(() => validateUpdate(template, edit('template', { 'metadata.name': 'other' })))).toEqual([
      'metadata.name: Invalid value: "other": field is immutable',
    ]);
  });

  it('lets a WorkerPool scale', () => {
    const pool = validateObject(edit('pool', {})) as WorkerPool;
    expect(validateUpdate(pool, edit('pool', { 'spec.replicas': 7 })).spec.replicas).toBe(7);
  });
});
