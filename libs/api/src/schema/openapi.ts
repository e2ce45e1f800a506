import { type AnySchema, type Json } from './schema';

type JsonObject = { [key: string]: Json };

/**
 * The OpenAPI v3 structural schema of a node, as published in a CRD: every node has a `type` (or is
 * int-or-string), maps use `additionalProperties`, CEL rules become `x-kubernetes-validations`. Keys
 * are sorted, as controller-gen does, so generated files diff cleanly.
 */
export function toOpenApi(schema: AnySchema): JsonObject {
  const d = schema.def;
  if (d.emitAs) return sortKeys({ ...d.emitAs });
  const out: JsonObject = {};
  switch (d.type) {
    case 'string':
      Object.assign(out, pick(d, ['enum', 'format', 'minLength', 'maxLength', 'pattern']), {
        type: 'string',
      });
      break;
    case 'integer':
      Object.assign(out, pick(d, ['format', 'minimum', 'maximum']), { type: 'integer' });
      break;
    case 'boolean':
      out['type'] = 'boolean';
      break;
    case 'int-or-string':
      Object.assign(out, pick(d, ['pattern']), {
        anyOf: [{ type: 'integer' }, { type: 'string' }],
        'x-kubernetes-int-or-string': true,
      });
      break;
    case 'preserve-unknown':
      Object.assign(out, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
      break;
    case 'object': {
      const props = Object.entries(d.properties);
      if (props.length)
        out['properties'] = sortKeys(Object.fromEntries(props.map(([k, p]) => [k, toOpenApi(p)])));
      if (d.required.length) out['required'] = [...d.required].sort();
      Object.assign(out, pick(d, ['minProperties', 'maxProperties']), { type: 'object' });
      if (d.mapType) out['x-kubernetes-map-type'] = d.mapType;
      break;
    }
    case 'map':
      Object.assign(out, pick(d, ['minProperties', 'maxProperties']), {
        additionalProperties: toOpenApi(d.values),
        type: 'object',
      });
      break;
    case 'array':
      Object.assign(out, pick(d, ['minItems', 'maxItems']), { items: toOpenApi(d.items), type: 'array' });
      if (d.listType) out['x-kubernetes-list-type'] = d.listType;
      if (d.listMapKeys) out['x-kubernetes-list-map-keys'] = [...d.listMapKeys];
      break;
  }
  if (d.description) out['description'] = d.description;
  if (d.default !== undefined) out['default'] = d.default;
  if (d.rules.length)
    out['x-kubernetes-validations'] = d.rules.map((r) => ({
      ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}),
      message: r.message,
      rule: r.rule,
    }));
  return sortKeys(out);
}

function pick<T extends object, K extends keyof T>(d: T, keys: readonly K[]): JsonObject {
  const out: JsonObject = {};
  for (const k of keys) if (d[k] !== undefined) out[k as string] = d[k] as Json;
  return out;
}

function sortKeys(o: JsonObject): JsonObject {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k] as Json]),
  );
}
