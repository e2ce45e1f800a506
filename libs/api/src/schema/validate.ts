import { type FieldIssue, type FieldIssueType } from '../errors';
import { type AnySchema, type Def, type OutputOf, type Rule } from './schema';

/**
 * Validates and defaults a value the way the API server does for a custom resource: unknown fields
 * are reported (strict decoding), `null` counts as absent, defaults fill absent properties of present
 * objects, then the OpenAPI constraints and finally the CEL rules are checked. As in the API server
 * (apiextensions `hasBlockingErr`), the CEL rules of the whole object are skipped when any schema error
 * is of a blocking kind (wrong type, missing, unsupported enum value, too long, too many), and one note
 * says so; this also guarantees every predicate sees a well-typed value. Paths use the API server's
 * notation: `spec.containers[1].image`, map entries as `spec.assets.amd64`.
 */
export function validate<S extends AnySchema>(
  schema: S,
  value: unknown,
  path = '',
): { value: OutputOf<S>; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const rules: DeferredRule[] = [];
  const out = walk(schema.def, value, path, issues, rules);
  if (issues.some((i) => BLOCKING.has(i.type))) {
    if (rules.length > 0) issues.push({ path: '', type: 'invalid', message: RULES_NOT_CHECKED });
  } else {
    for (const { rule, value: v, path: at } of rules)
      if (!rule.check(v, undefined)) issues.push({ path: at, type: 'rule', message: rule.message });
  }
  return { value: out as OutputOf<S>, issues };
}

/** Schema errors after which the API server does not evaluate any CEL rule of the object. */
const BLOCKING: ReadonlySet<FieldIssueType> = new Set([
  'typeInvalid',
  'required',
  'unsupported',
  'tooLong',
  'tooMany',
]);

/** The API server's note when blocking errors kept the CEL rules from running. */
export const RULES_NOT_CHECKED =
  'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

/** A CEL rule to evaluate once the whole object passed the blocking schema checks. */
interface DeferredRule {
  readonly rule: Rule<unknown>;
  readonly value: unknown;
  readonly path: string;
}

/**
 * Evaluates transition rules (those using `oldSelf`) for an update. Both values must already have
 * passed `validate`. As in Kubernetes, a rule runs only where the old value can be correlated with the
 * new one: object properties and map entries present in both (atomic lists are not correlated).
 */
export function validateTransition(schema: AnySchema, next: unknown, prev: unknown, path = ''): FieldIssue[] {
  const issues: FieldIssue[] = [];
  walkTransition(schema.def, next, prev, path, issues);
  return issues;
}

/** Structural equality of JSON values (CEL `==` on objects, maps and lists). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
  );
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON type name Kubernetes prints for a bad value. */
function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** A bad value as `kubectl` shows it: strings quoted, numbers bare, composites by type name. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(typeName(v));
}

export const child = (path: string, key: string) => (path ? `${path}.${key}` : key);
const atFieldPath = (path: string, fieldPath: string | undefined) =>
  !fieldPath ? path : path ? path + fieldPath : fieldPath.replace(/^\./, '');
const chars = (s: string) => [...s].length;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const patterns = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) patterns.set(pattern, (re = new RegExp(pattern)));
  return re;
}

function walk(d: Def, v: unknown, path: string, issues: FieldIssue[], rules: DeferredRule[]): unknown {
  const add = (type: FieldIssueType, message: string, at = path) => issues.push({ path: at, type, message });
  const wrongType = (expected: string) => {
    add('typeInvalid', `Invalid value: ${showValue(typeName(v))}: must be of type ${expected}`);
    return v;
  };
  let out = v;
  switch (d.type) {
    case 'string': {
      if (typeof v !== 'string') return wrongType('string');
      if (d.enum && !d.enum.includes(v)) {
        add(
          'unsupported',
          `Unsupported value: ${showValue(v)}: supported values: ${d.enum.map((e) => JSON.stringify(e)).join(', ')}`,
        );
        break;
      }
      // Like the API server's OpenAPI validator, report only the first failing string constraint.
      if (d.maxLength !== undefined && chars(v) > d.maxLength)
        add('tooLong', `Too long: may not be more than ${d.maxLength} bytes`);
      else if (d.minLength !== undefined && chars(v) < d.minLength)
        add('invalid', `Invalid value: ${showValue(v)}: should be at least ${d.minLength} chars long`);
      else if (d.pattern !== undefined && !regex(d.pattern).test(v))
        add('invalid', `Invalid value: ${showValue(v)}: should match '${d.pattern}'`);
      if (d.format === 'date-time' && (!RFC3339.test(v) || Number.isNaN(Date.parse(v))))
        add('invalid', `Invalid value: ${showValue(v)}: must be of type date-time: ${showValue(v)}`);
      break;
    }
    case 'integer': {
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return wrongType('integer');
      if (d.minimum !== undefined && v < d.minimum)
        add('invalid', `Invalid value: ${v}: should be greater than or equal to ${d.minimum}`);
      if (d.maximum !== undefined && v > d.maximum)
        add('invalid', `Invalid value: ${v}: should be less than or equal to ${d.maximum}`);
      break;
    }
    case 'boolean':
      if (typeof v !== 'boolean') return wrongType('boolean');
      break;
    case 'int-or-string': {
      if (typeof v === 'string') {
        if (d.pattern !== undefined && !regex(d.pattern).test(v))
          add('invalid', `Invalid value: ${showValue(v)}: should match '${d.pattern}'`);
      } else if (typeof v !== 'number' || !Number.isSafeInteger(v)) return wrongType('integer or string');
      break;
    }
    case 'preserve-unknown':
      if (!isObject(v)) return wrongType('object');
      out = structuredClone(v);
      break;
    case 'object': {
      if (!isObject(v)) return wrongType('object');
      const res: Record<string, unknown> = {};
      for (const key of Object.keys(v))
        if (!Object.hasOwn(d.properties, key))
          add('unknownField', 'field not declared in schema', child(path, key));
      for (const [key, prop] of Object.entries(d.properties)) {
        let cv: unknown = v[key] ?? undefined;
        if (cv === undefined && prop.def.default !== undefined) cv = structuredClone(prop.def.default);
        if (cv === undefined) {
          if (d.required.includes(key)) add('required', 'Required value', child(path, key));
          continue;
        }
        res[key] = walk(prop.def, cv, child(path, key), issues, rules);
      }
      checkCount(Object.keys(res).length, d, add);
      out = res;
      break;
    }
    case 'map': {
      if (!isObject(v)) return wrongType('object');
      const res: Record<string, unknown> = {};
      for (const [key, cv] of Object.entries(v))
        res[key] = walk(d.values.def, cv, child(path, key), issues, rules);
      checkCount(Object.keys(res).length, d, add);
      out = res;
      break;
    }
    case 'array': {
      if (!Array.isArray(v)) return wrongType('array');
      if (d.maxItems !== undefined && v.length > d.maxItems)
        add('tooMany', `Too many: ${v.length}: must have at most ${d.maxItems} items`);
      if (d.minItems !== undefined && v.length < d.minItems)
        add('invalid', `Invalid value: ${v.length}: should have at least ${d.minItems} items`);
      const res = v.map((item: unknown, i) => walk(d.items.def, item, `${path}[${i}]`, issues, rules));
      if (d.listType === 'map' && d.listMapKeys) {
        const keys = d.listMapKeys;
        const seen = new Set<string>();
        res.forEach((item, i) => {
          if (!isObject(item)) return;
          const id = JSON.stringify(Object.fromEntries(keys.map((k) => [k, item[k] ?? null])));
          if (seen.has(id)) add('duplicate', `Duplicate value: ${id}`, `${path}[${i}]`);
          seen.add(id);
        });
      }
      out = res;
      break;
    }
  }
  for (const rule of d.rules as readonly Rule<unknown>[])
    if (!rule.transition) rules.push({ rule, value: out, path: atFieldPath(path, rule.fieldPath) });
  return out;
}

function checkCount(
  n: number,
  d: { readonly minProperties?: number; readonly maxProperties?: number },
  add: (type: FieldIssueType, message: string) => void,
) {
  if (d.maxProperties !== undefined && n > d.maxProperties)
    add('tooMany', `Too many: ${n}: must have at most ${d.maxProperties} items`);
  if (d.minProperties !== undefined && n < d.minProperties)
    add('invalid', `Invalid value: ${n}: should have at least ${d.minProperties} properties`);
}

function walkTransition(d: Def, next: unknown, prev: unknown, path: string, issues: FieldIssue[]): void {
  if (next === undefined || prev === undefined) return;
  for (const r of d.rules as readonly Rule<unknown>[])
    if (r.transition && !r.check(next, prev))
      issues.push({ path: atFieldPath(path, r.fieldPath), type: 'rule', message: r.message });
  if (!isObject(next) || !isObject(prev)) return;
  if (d.type === 'object')
    for (const [key, prop] of Object.entries(d.properties))
      walkTransition(prop.def, next[key], prev[key], child(path, key), issues);
  if (d.type === 'map')
    for (const key of Object.keys(next))
      walkTransition(d.values.def, next[key], prev[key], child(path, key), issues);
}
