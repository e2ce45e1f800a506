import { Document, LineCounter, parseAllDocuments } from 'yaml';
import { ManifestSyntaxError, ValidationError } from '../errors';
import { isObject } from '../schema/validate';
import { API_GROUP } from '../v1alpha1/common';
import { type Kind, type ObjectOfKind, type SubstrateObject } from '../v1alpha1/kinds';
import { type DecodeOptions, validateObject, validateObjectOf } from './decode';

/** Options of the parse and load functions. */
export interface ParseOptions extends Omit<DecodeOptions, 'source'> {
  /** File name used in error messages. */
  readonly file?: string;
  /**
   * Skip documents whose `apiVersion` is not in the `ate.dev` group (a Namespace or Secret in the
   * same file) instead of rejecting them.
   */
  readonly skipForeign?: boolean;
}

/** One decoded YAML/JSON document (a `v1 List` contributes one entry per item). */
interface RawDocument {
  readonly value: unknown;
  /** 1-based index in the stream. */
  readonly document: number;
}

/**
 * Splits a YAML stream (or a JSON text) into plain values. Empty documents are skipped, `v1 List`
 * objects are flattened, duplicate keys are rejected.
 *
 * @throws {ManifestSyntaxError} with the 1-based line and column of the first syntax error.
 */
function readDocuments(text: string, file: string | undefined): RawDocument[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const out: RawDocument[] = [];
  // A stream that is only comments or whitespace parses to an EmptyStream (no documents).
  for (const [i, doc] of (Array.isArray(docs) ? docs : []).entries()) {
    const source = { file, document: i + 1 };
    const error = doc.errors[0];
    if (error) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      throw new ManifestSyntaxError(error.message, line, col, source, { cause: error });
    }
    if (doc.contents === null) continue;
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    if (
      isObject(value) &&
      value['apiVersion'] === 'v1' &&
      value['kind'] === 'List' &&
      Array.isArray(value['items'])
    )
      out.push(...value['items'].map((item: unknown) => ({ value: item, document: i + 1 })));
    else out.push({ value, document: i + 1 });
  }
  return out;
}

const isForeign = (value: unknown) =>
  !isObject(value) ||
  typeof value['apiVersion'] !== 'string' ||
  !value['apiVersion'].startsWith(`${API_GROUP}/`);

/**
 * Parses a YAML or JSON stream of Substrate objects (any mix of kinds, dispatched on `apiVersion`
 * and `kind`), validates each against its CRD and returns them with defaults applied, in order.
 *
 * @throws {ManifestSyntaxError} on a YAML/JSON syntax error.
 * @throws {ValidationError} for the first invalid document, naming every bad field.
 */
export function parseManifests(text: string, options: ParseOptions = {}): SubstrateObject[] {
  return readDocuments(text, options.file)
    .filter((d) => !(options.skipForeign && isForeign(d.value)))
    .map((d) =>
      validateObject(d.value, { ...options, source: { file: options.file, document: d.document } }),
    );
}

function parseOne<K extends Kind>(kind: K, text: string, options: ParseOptions): ObjectOfKind<K> {
  const docs = readDocuments(text, options.file).filter((d) => !(options.skipForeign && isForeign(d.value)));
  const [doc] = docs;
  if (!doc || docs.length > 1)
    throw new ValidationError(
      [{ path: '', type: 'invalid', message: `expected exactly one ${kind}, found ${docs.length} objects` }],
      { kind },
      { file: options.file },
    );
  return validateObjectOf(kind, doc.value, {
    ...options,
    source: { file: options.file, document: doc.document },
  });
}

/** Parses exactly one WorkerPool from YAML or JSON. @throws {ManifestSyntaxError} @throws {ValidationError} */
export const parseWorkerPool = (text: string, options: ParseOptions = {}) =>
  parseOne('WorkerPool', text, options);
/** Parses exactly one ActorTemplate from YAML or JSON. @throws {ManifestSyntaxError} @throws {ValidationError} */
export const parseActorTemplate = (text: string, options: ParseOptions = {}) =>
  parseOne('ActorTemplate', text, options);
/** Parses exactly one SandboxConfig from YAML or JSON. @throws {ManifestSyntaxError} @throws {ValidationError} */
export const parseSandboxConfig = (text: string, options: ParseOptions = {}) =>
  parseOne('SandboxConfig', text, options);

/** Serializes objects as a YAML stream (`---` between documents) that {@link parseManifests} reads back. */
export function toYaml(objects: SubstrateObject | readonly SubstrateObject[]): string {
  const list: readonly SubstrateObject[] = Array.isArray(objects) ? objects : [objects as SubstrateObject];
  return list.map((o) => new Document(o).toString({ lineWidth: 0 })).join('---\n');
}
