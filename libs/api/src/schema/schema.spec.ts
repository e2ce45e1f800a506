import { formatIssue } from '../errors';
import { toOpenApi } from './openapi';
import { arr, cel, celTransition, enumOf, exactlyOneOf, int32, map, matches, obj, str } from './schema';
import { RULES_NOT_CHECKED, deepEqual, validate, validateTransition } from './validate';

interface Probe {
  mode: 'a' | 'b';
  name: string;
  tags?: string[];
  limits?: Record<string, number>;
}

const probe = obj(
  {
    mode: enumOf(['a', 'b'] as const, { default: 'a' }),
    name: str({ maxLength: 8, description: 'A name.' }),
    tags: arr(str(), { maxItems: 2, listType: 'atomic' }),
    limits: map(int32({ minimum: 0 })),
  },
  {
    required: ['name'],
    rules: [
      cel<Probe>(
        "self.mode == 'a' || has(self.tags)",
        'mode b needs tags',
        (s) => s.mode === 'a' || !!s.tags,
        '.tags',
      ),
      celTransition<Probe>('self.name == oldSelf.name', 'name is immutable', (s, o) => s.name === o.name),
    ],
  },
);

const run = (value: unknown) => {
  const r = validate(probe, value, 'spec');
  return { value: r.value, issues: r.issues.map(formatIssue) };
};

describe('validate', () => {
  it('defaults absent and null properties, keeping declared order', () => {
    expect(run({ name: 'x', mode: null })).toEqual({ value: { mode: 'a', name: 'x' }, issues: [] });
  });

  it('reports unknown fields, constraints and rules with paths', () => {
    expect(run({ name: 'longer', mode: 'b', extra: 1, limits: { cpu: -1 } }).issues).toEqual([
      'spec.extra: field not declared in schema',
      'spec.limits.cpu: Invalid value: -1: should be greater than or equal to 0',
      'spec.tags: mode b needs tags',
    ]);
  });

  it('skips every CEL rule after a blocking schema error, as the API server does, and says so', () => {
    expect(run({ name: 'longer than 8', mode: 'b' }).issues).toEqual([
      'spec.name: Too long: may not be more than 8 bytes',
      RULES_NOT_CHECKED,
    ]);
    expect(run({ mode: 'b', tags: 'x' }).issues).toEqual([
      'spec.name: Required value',
      'spec.tags: Invalid value: "string": must be of type array',
      RULES_NOT_CHECKED,
    ]);
  });

  it('runs transition rules only where an old value exists', () => {
    const next = validate(probe, { name: 'new' }).value;
    const prev = validate(probe, { name: 'old' }).value;
    expect(validateTransition(probe, next, prev, 'spec').map(formatIssue)).toEqual([
      'spec: name is immutable',
    ]);
    expect(validateTransition(probe, next, undefined, 'spec')).toEqual([]);
    expect(run({ name: 'new' }).issues).toEqual([]);
  });
});

describe('rule helpers', () => {
  it('exactlyOneOf writes the kubebuilder rule and message', () => {
    const rule = exactlyOneOf<{ a?: string; b?: string }>('a', 'b');
    expect(rule.rule).toBe('[has(self.a), has(self.b)].filter(x, x).size() == 1');
    expect(rule.message).toBe('exactly one of the fields in [a b] must be set');
    expect([{}, { a: '' }, { a: '', b: '' }].map((v) => rule.check(v, v))).toEqual([false, true, false]);
  });

  it('matches quotes the pattern as a CEL string and tests the same regex', () => {
    const rule = matches("^a\\.b'c$", 'bad');
    expect(rule.rule).toBe("self.matches('^a\\\\.b\\'c$')");
    expect(rule.check("a.b'c", '')).toBe(true);
    expect(rule.check("axb'c", '')).toBe(false);
  });

  it('deepEqual compares maps without order and lists with order', () => {
    expect(deepEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(deepEqual({ b: [2, 1] }, { b: [1, 2] })).toBe(false);
    expect(deepEqual({ a: undefined }, {})).toBe(false);
  });
});

describe('toOpenApi', () => {
  it('emits a structural schema with sorted keys, defaults and validations', () => {
    expect(toOpenApi(probe)).toEqual({
      properties: {
        limits: { additionalProperties: { format: 'int32', minimum: 0, type: 'integer' }, type: 'object' },
        mode: { default: 'a', enum: ['a', 'b'], type: 'string' },
        name: { description: 'A name.', maxLength: 8, type: 'string' },
        tags: { items: { type: 'string' }, maxItems: 2, type: 'array', 'x-kubernetes-list-type': 'atomic' },
      },
      required: ['name'],
      type: 'object',
      'x-kubernetes-validations': [
        { fieldPath: '.tags', message: 'mode b needs tags', rule: "self.mode == 'a' || has(self.tags)" },
        { message: 'name is immutable', rule: 'self.name == oldSelf.name' },
      ],
    });
    expect(Object.keys(toOpenApi(probe))).toEqual([
      'properties',
      'required',
      'type',
      'x-kubernetes-validations',
    ]);
  });
});
