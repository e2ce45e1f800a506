import { validateObjectOf } from '../manifest/decode';
import { edit, HEX64 } from '../testdata/cases';
import { type LabelSelector } from './common';
import { isPoolEligible, matchesLabelSelector, resolveRunsc, workerPoolRefOf } from './placement';

const pool = (set: Record<string, unknown> = {}) =>
  validateObjectOf(
    'WorkerPool',
    edit('pool', { 'metadata.name': 'kagent-default', 'metadata.namespace': 'kagent', ...set }),
  );
const template = (set: Record<string, unknown> = {}) =>
  validateObjectOf('ActorTemplate', edit('template', { 'metadata.namespace': 'kagent', ...set }));
const config = validateObjectOf(
  'SandboxConfig',
  edit('config', { 'spec.assets.arm64': { runsc: { url: 'gs://cfg/arm64/runsc', sha256: HEX64 } } }),
);

describe('matchesLabelSelector', () => {
  const labels = { 'kagent.dev/worker-pool': 'kagent-default', tier: 'gold' };
  it.each<[string, LabelSelector | undefined, boolean]>([
    ['no selector', undefined, true],
    ['empty selector', {}, true],
    ['matchLabels hit', { matchLabels: { tier: 'gold' } }, true],
    ['matchLabels miss', { matchLabels: { tier: 'silver' } }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }] }, true],
    ['In on a missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] }, false],
    [
      'NotIn on a missing key',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    ['unknown operator', { matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['1'] }] }, false],
    [
      'labels and expressions are ANDed',
      { matchLabels: { tier: 'gold' }, matchExpressions: [{ key: 'x', operator: 'Exists' }] },
      false,
    ],
  ])('%s', (_, selector, expected) => {
    expect(matchesLabelSelector(selector, labels)).toBe(expected);
  });
});

describe('isPoolEligible: placement fields are ANDed gates', () => {
  const labelled = pool({ 'metadata.labels': { 'kagent.dev/worker-pool': 'kagent-default' } });
  const ref = { 'spec.workerPoolRef': { name: 'kagent-default' } };
  const selector = (value: string) => ({
    'spec.workerSelector': { matchLabels: { 'kagent.dev/worker-pool': value } },
  });

  it.each<[string, Record<string, unknown>, boolean]>([
    ['no placement fields: any pool of the class', {}, true],
    ['workerPoolRef to this pool (namespace defaults to the template)', ref, true],
    ['workerPoolRef to another pool', { 'spec.workerPoolRef': { name: 'other' } }, false],
    [
      'workerPoolRef to a pool of the same name elsewhere',
      { 'spec.workerPoolRef': { name: 'kagent-default', namespace: 'ns' } },
      false,
    ],
    [
      'workerPoolRef across namespaces',
      {
        'metadata.namespace': 'team-a',
        'spec.workerPoolRef': { name: 'kagent-default', namespace: 'kagent' },
      },
      true,
    ],
    ['workerPoolRef and a matching selector', { ...ref, ...selector('kagent-default') }, true],
    ['workerPoolRef and a selector the pool does not match', { ...ref, ...selector('other') }, false],
    ['workerPoolRef to a pool of another class', { ...ref, 'spec.sandboxClass': 'microvm' }, false],
  ])('%s', (_, set, expected) => {
    expect(isPoolEligible(template(set), labelled)).toBe(expected);
  });

  it('resolves the reference with the template namespace', () => {
    expect(workerPoolRefOf(template(ref))).toEqual({ namespace: 'kagent', name: 'kagent-default' });
    expect(workerPoolRefOf(template())).toBeUndefined();
  });
});

describe('resolveRunsc: the template wins, per architecture', () => {
  const pinned = template({
    'spec.runsc': { amd64: { url: 'gs://tmpl/amd64/runsc', sha256Hash: 'b'.repeat(64) } },
  });

  it.each([
    [
      'template entry for the arch',
      pinned,
      'amd64',
      { url: 'gs://tmpl/amd64/runsc', sha256: 'b'.repeat(64), source: 'ActorTemplate' },
    ],
    [
      'arch missing from the template falls back to the config',
      pinned,
      'arm64',
      { url: 'gs://cfg/arm64/runsc', sha256: HEX64, source: 'SandboxConfig' },
    ],
    [
      'no template runsc',
      template(),
      'amd64',
      { url: 'gs://bin/runsc', sha256: HEX64, source: 'SandboxConfig' },
    ],
    ['neither', template(), 'riscv64', undefined],
  ] as const)('%s', (_, t, arch, expected) => {
    expect(resolveRunsc(t, arch, config)).toEqual(expected);
  });

  it('works without a SandboxConfig', () => {
    expect(resolveRunsc(pinned, 'arm64')).toBeUndefined();
    expect(resolveRunsc(pinned, 'amd64')?.source).toBe('ActorTemplate');
  });
});
