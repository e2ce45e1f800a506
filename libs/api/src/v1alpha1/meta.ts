import { type FieldIssue } from '../errors';
import { type Assert, type Equals } from '../schema/assert';
import { arr, bool, int64, map, obj, type OutputOf, preserveUnknown, str } from '../schema/schema';
import { showValue } from '../schema/validate';

/** `metav1.OwnerReference`. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The parts of `metav1.ObjectMeta` a manifest or a stored object carries. */
export interface ObjectMeta {
  name: string;
  /** Required for WorkerPool and ActorTemplate, forbidden for the cluster-scoped SandboxConfig. */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: Record<string, unknown>[];
}

/**
 * ObjectMeta as the API server decodes it. The CRD publishes only `type: object` for metadata, as
 * controller-gen does: the server validates ObjectMeta itself (see `metadataIssues`).
 */
export const objectMetaSchema = obj(
  {
    name: str(),
    namespace: str(),
    labels: map(str()),
    annotations: map(str()),
    uid: str(),
    resourceVersion: str(),
    generation: int64(),
    creationTimestamp: str({ format: 'date-time' }),
    deletionTimestamp: str({ format: 'date-time' }),
    deletionGracePeriodSeconds: int64(),
    ownerReferences: arr(
      obj(
        {
          apiVersion: str(),
          kind: str(),
          name: str(),
          uid: str(),
          controller: bool(),
          blockOwnerDeletion: bool(),
        },
        { required: ['apiVersion', 'kind', 'name', 'uid'] },
      ),
    ),
    finalizers: arr(str()),
    managedFields: arr(preserveUnknown()),
  },
  { required: ['name'], emitAs: { type: 'object' } },
);

type _MetaCheck = Assert<Equals<ObjectMeta, OutputOf<typeof objectMetaSchema>>>;

// Messages below are the API server's own (k8s.io/apimachinery/pkg/util/validation).
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-_.A-Za-z0-9]*)?[A-Za-z0-9])?$/;

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const QUALIFIED_NAME_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-_.A-Za-z0-9]*)?[A-Za-z0-9])?')";

function dnsIssues(value: string, max: number, re: RegExp, message: string): string[] {
  const out: string[] = [];
  if (value.length > max) out.push(`must be no more than ${max} characters`);
  if (!re.test(value)) out.push(message);
  return out;
}

/** Problems with a label or annotation key (`prefix/name`), as `IsQualifiedName` reports them. */
function qualifiedNameIssues(key: string): string[] {
  const parts = key.split('/');
  const name = parts.length === 2 ? (parts[1] ?? '') : key;
  const out: string[] = [];
  if (parts.length > 2)
    out.push(
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
  else {
    if (parts.length === 2) {
      const prefix = parts[0] ?? '';
      if (!prefix) out.push('prefix part must be non-empty');
      else out.push(...dnsIssues(prefix, 253, SUBDOMAIN, SUBDOMAIN_MESSAGE).map((m) => `prefix part ${m}`));
    }
    if (!name) out.push('name part must be non-empty');
    else if (name.length > 63) out.push('name part must be no more than 63 characters');
    if (name && !QUALIFIED_NAME.test(name)) out.push(QUALIFIED_NAME_MESSAGE);
  }
  return out;
}

/**
 * What the API server checks in ObjectMeta beyond its types: name (DNS-1123 subdomain), namespace
 * (DNS-1123 label; required or forbidden by scope), label keys and values, annotation keys.
 */
export function metadataIssues(meta: ObjectMeta, namespaced: boolean): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const invalid = (path: string, value: string, details: string[]) =>
    details.forEach((d) =>
      issues.push({ path, type: 'invalid', message: `Invalid value: ${showValue(value)}: ${d}` }),
    );
  invalid('metadata.name', meta.name, dnsIssues(meta.name, 253, SUBDOMAIN, SUBDOMAIN_MESSAGE));
  if (!namespaced) {
    if (meta.namespace)
      issues.push({
        path: 'metadata.namespace',
        type: 'forbidden',
        message: 'Forbidden: not allowed on this type',
      });
  } else if (!meta.namespace) {
    issues.push({ path: 'metadata.namespace', type: 'required', message: 'Required value' });
  } else {
    invalid('metadata.namespace', meta.namespace, dnsIssues(meta.namespace, 63, LABEL, LABEL_MESSAGE));
  }
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    invalid('metadata.labels', key, qualifiedNameIssues(key));
    invalid('metadata.labels', value, [
      ...(value.length > 63 ? ['must be no more than 63 characters'] : []),
      ...(LABEL_VALUE.test(value) ? [] : [LABEL_VALUE_MESSAGE]),
    ]);
  }
  for (const key of Object.keys(meta.annotations ?? {}))
    invalid('metadata.annotations', key, qualifiedNameIssues(key.toLowerCase()));
  return issues;
}
