import { IDLE_SUSPEND_AFTER_ANNOTATION, parseIdleSuspendAfter } from '@substrate/api';
import type { ateapi } from '@substrate/proto';
import { invalidArgument } from '../errors/control-error';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_PROBLEM =
  "must start and end with a lower case alphanumeric character, and consist only of lower case alphanumeric characters or '-'";

/** Upstream's limit on worker_selector entries. */
export const MAX_SELECTOR_LABELS = 10;
/** ListActors' default and maximum page size. */
export const MAX_PAGE_SIZE = 1000;

/** Checks a DNS-1123 label (actor IDs, atespace names) with upstream's messages, `invalid <field>: …`. */
export function validateLabel(field: string, value: string): void {
  if (value.length > 63) throw invalidArgument(`invalid ${field}: must be no more than 63 characters`);
  if (!DNS1123_LABEL.test(value)) throw invalidArgument(`invalid ${field}: ${LABEL_PROBLEM}`);
}

/** Requires a non-empty value: `<message>` (e.g. `actor_id is required`). */
export function required(value: string, message: string): void {
  if (value === '') throw invalidArgument(message);
}

const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Kubernetes' checks of a qualified name (label key), as messages; empty when valid. */
export function qualifiedNameProblems(key: string): string[] {
  const problems: string[] = [];
  const parts = key.split('/');
  let name = key;
  if (parts.length > 2) {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (parts.length === 2) {
    const [prefix = '', rest = ''] = parts;
    name = rest;
    if (prefix.length === 0) problems.push('prefix part must be non-empty');
    else if (prefix.length > 253) problems.push('prefix part must be no more than 253 characters');
    else if (!DNS1123_SUBDOMAIN.test(prefix)) {
      problems.push(
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      );
    }
  }
  if (name.length === 0) problems.push('name part must be non-empty');
  else if (name.length > 63) problems.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED_NAME_PART.test(name)) {
    problems.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
  }
  return problems;
}

/** Kubernetes' checks of a label value, as messages; empty when valid. */
export function labelValueProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) problems.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) {
    problems.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  }
  return problems;
}

/** Upstream's worker_selector rules: at most 10 entries, keys qualified names, values label values. */
export function validateSelector(selector: ateapi.Selector | undefined): void {
  const entries = Object.entries(selector?.matchLabels ?? {});
  if (entries.length > MAX_SELECTOR_LABELS) {
    throw invalidArgument(
      `worker_selector has ${entries.length} match_labels entries, exceeding the limit of ${MAX_SELECTOR_LABELS}`,
    );
  }
  for (const [key, value] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const keyProblems = qualifiedNameProblems(key);
    if (keyProblems.length > 0) {
      throw invalidArgument(
        `invalid worker_selector label key ${JSON.stringify(key)}: ${keyProblems.join('; ')}`,
      );
    }
    const valueProblems = labelValueProblems(value);
    if (valueProblems.length > 0) {
      throw invalidArgument(
        `invalid worker_selector label value ${JSON.stringify(value)} for key ${JSON.stringify(key)}: ${valueProblems.join('; ')}`,
      );
    }
  }
}

/** Kubernetes' limit on the total size of an object's annotations (keys and values). */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/**
 * Actor annotations as Kubernetes checks an object's: keys are qualified names, the total size is at
 * most 256 KiB. Known annotations must have valid values: `substrate.ate.dev/idle-suspend-after` is a
 * duration (e.g. `5m`) or `0`/`off`.
 */
export function validateAnnotations(annotations: Readonly<Record<string, string>> | undefined): void {
  const entries = Object.entries(annotations ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let bytes = 0;
  for (const [key, value] of entries) {
    const problems = qualifiedNameProblems(key.toLowerCase());
    if (problems.length > 0) {
      throw invalidArgument(`invalid annotation key ${JSON.stringify(key)}: ${problems.join('; ')}`);
    }
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (bytes > MAX_ANNOTATIONS_BYTES) {
    throw invalidArgument(
      `annotations are ${bytes} bytes, exceeding the limit of ${MAX_ANNOTATIONS_BYTES} bytes`,
    );
  }
  const idle = annotations?.[IDLE_SUSPEND_AFTER_ANNOTATION];
  if (idle !== undefined) {
    const parsed = parseIdleSuspendAfter(idle);
    if (!parsed.ok) {
      throw invalidArgument(
        `invalid annotation ${JSON.stringify(IDLE_SUSPEND_AFTER_ANNOTATION)}: ${parsed.problem}`,
      );
    }
  }
}
