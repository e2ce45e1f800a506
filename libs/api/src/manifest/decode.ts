import { type FieldIssue, type ManifestSource, ValidationError } from '../errors';
import { type AnySchema } from '../schema/schema';
import { isObject, showValue, validate, validateTransition } from '../schema/validate';
import { API_VERSION } from '../v1alpha1/common';
import { KINDS, type Kind, type ObjectOfKind, type SubstrateObject } from '../v1alpha1/kinds';
import { metadataIssues } from '../v1alpha1/meta';

/** Options of the decode, parse and load functions. */
export interface DecodeOptions {
  /** Namespace given to namespaced objects that have none, like `kubectl --namespace`. */
  readonly namespace?: string;
  /** Where the object came from, for error messages. */
  readonly source?: ManifestSource;
}

const ALL_KINDS = Object.keys(KINDS).sort() as Kind[];

function identify(value: unknown): { kind?: string; namespace?: string; name?: string } {
  if (!isObject(value)) return {};
  const meta = isObject(value['metadata']) ? value['metadata'] : {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { kind: str(value['kind']), namespace: str(meta['namespace']), name: str(meta['name']) };
}

function fail(issues: readonly FieldIssue[], value: unknown, options: DecodeOptions): never {
  throw new ValidationError(issues, identify(value), options.source);
}

function decode<K extends Kind>(
  value: unknown,
  kinds: readonly K[],
  options: DecodeOptions,
): ObjectOfKind<K> {
  if (!isObject(value))
    fail(
      [
        {
          path: '',
          type: 'typeInvalid',
          message: `Invalid value: ${showValue(value)}: must be of type object`,
        },
      ],
      value,
      options,
    );
  const issues: FieldIssue[] = [];
  const { apiVersion, kind } = value;
  if (apiVersion === undefined)
    issues.push({ path: 'apiVersion', type: 'required', message: 'Required value' });
  else if (apiVersion !== API_VERSION)
    issues.push({
      path: 'apiVersion',
      type: 'unsupported',
      message: `Unsupported value: ${showValue(apiVersion)}: supported values: "${API_VERSION}"`,
    });
  if (kind === undefined) issues.push({ path: 'kind', type: 'required', message: 'Required value' });
  else if (!(kinds as readonly unknown[]).includes(kind))
    issues.push({
      path: 'kind',
      type: 'unsupported',
      message: `Unsupported value: ${showValue(kind)}: supported values: ${kinds.map((k) => `"${k}"`).join(', ')}`,
    });
  if (issues.length) fail(issues, value, options);

  const info = KINDS[kind as K];
  const namespaced = info.scope === 'Namespaced';
  let input = value;
  if (
    isObject(value['metadata']) &&
    namespaced &&
    options.namespace &&
    value['metadata']['namespace'] == null
  )
    input = { ...value, metadata: { ...value['metadata'], namespace: options.namespace } };
  if (input['metadata'] == null)
    issues.push({ path: 'metadata', type: 'required', message: 'Required value' });

  const result = validate(info.schema as AnySchema, input);
  issues.push(...result.issues);
  const out = result.value as ObjectOfKind<K>;
  if (!issues.some((i) => i.path.startsWith('metadata')))
    issues.push(...metadataIssues(out.metadata, namespaced));
  if (!issues.length)
    for (const rule of info.admissionRules)
      if (!rule.check(out)) issues.push({ path: rule.path, type: 'rule', message: rule.message });
  if (issues.length) fail(issues, value, options);
  return out;
}

/**
 * Validates a decoded object (e.g. from JSON or the Kubernetes API) of any Substrate kind against its
 * CRD schema, CEL rules, admission policy and metadata rules, and returns it with defaults applied.
 *
 * @throws {ValidationError} naming every bad field.
 */
export function validateObject(value: unknown, options: DecodeOptions = {}): SubstrateObject {
  return decode(value, ALL_KINDS, options);
}

/**
 * Like {@link validateObject}, but only accepts `kind`.
 *
 * @throws {ValidationError}
 */
export function validateObjectOf<K extends Kind>(
  kind: K,
  value: unknown,
  options: DecodeOptions = {},
): ObjectOfKind<K> {
  return decode(value, [kind], options);
}

/**
 * Validates an update of `previous` to `next` as the API server does: `next` must be valid, keep
 * name and namespace, and satisfy the transition rules (ActorTemplate: "Spec is immutable").
 * Returns `next` with defaults applied.
 *
 * @throws {ValidationError}
 */
export function validateUpdate<T extends SubstrateObject>(
  previous: T,
  next: unknown,
  options: DecodeOptions = {},
): T {
  const kind = previous.kind as T['kind'];
  const prev = decode(previous, [kind], options);
  const out = decode(next, [kind], options);
  const issues: FieldIssue[] = [];
  for (const field of ['name', 'namespace'] as const)
    if (out.metadata[field] !== prev.metadata[field])
      issues.push({
        path: `metadata.${field}`,
        type: 'invalid',
        message: `Invalid value: ${showValue(out.metadata[field] ?? '')}: field is immutable`,
      });
  issues.push(...validateTransition(KINDS[kind].schema as AnySchema, out, prev));
  if (issues.length) fail(issues, next, options);
  return out as unknown as T;
}
