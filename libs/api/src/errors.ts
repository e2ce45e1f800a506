/**
 * What went wrong with a field, in the vocabulary of the Kubernetes API server
 * (`k8s.io/apimachinery/pkg/util/validation/field`), plus `rule` for a failed CEL rule or admission
 * policy and `unknownField` for a field the schema does not declare.
 */
export type FieldIssueType =
  | 'required'
  | 'invalid'
  | 'typeInvalid'
  | 'unsupported'
  | 'tooLong'
  | 'tooMany'
  | 'duplicate'
  | 'forbidden'
  | 'unknownField'
  | 'rule';

/** One problem with one field. `path` uses the API server's notation: `spec.containers[1].image`, `spec.assets.amd64`. */
export interface FieldIssue {
  readonly path: string;
  readonly type: FieldIssueType;
  readonly message: string;
}

/** `path: message`, as `kubectl` prints a field error. */
export function formatIssue(issue: FieldIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** Where a manifest came from, for error messages. */
export interface ManifestSource {
  /** File name, when read from disk. */
  readonly file?: string;
  /** 1-based position of the document in a multi-document stream. */
  readonly document?: number;
}

function describeSource(source: ManifestSource | undefined): string {
  if (!source) return '';
  const doc = source.document !== undefined ? `document ${source.document}` : '';
  if (source.file) return doc ? `${source.file} (${doc}): ` : `${source.file}: `;
  return doc ? `${doc}: ` : '';
}

/** Stable codes of the errors this library throws. */
export type ApiErrorCode = 'INVALID_OBJECT' | 'MANIFEST_SYNTAX';

/** Base class of the errors this library throws; switch on `code`. */
export abstract class ApiError extends Error {
  abstract readonly code: ApiErrorCode;
}

/** An object does not satisfy its CRD schema, CEL rules, admission policy or metadata rules. */
export class ValidationError extends ApiError {
  override readonly name = 'ValidationError';
  readonly code = 'INVALID_OBJECT' as const;

  constructor(
    /** Every problem found, in schema order. Never empty. */
    readonly issues: readonly FieldIssue[],
    /** The object, as far as it could be identified. */
    readonly object: { readonly kind?: string; readonly namespace?: string; readonly name?: string } = {},
    readonly source?: ManifestSource,
  ) {
    const who = `${object.kind ? `${object.kind}.ate.dev` : 'object'}${object.name ? ` "${object.name}"` : ''}`;
    const list = issues.map(formatIssue);
    super(
      `${describeSource(source)}${who} is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`,
    );
  }
}

/** A YAML or JSON document could not be parsed. `line` and `column` are 1-based. */
export class ManifestSyntaxError extends ApiError {
  override readonly name = 'ManifestSyntaxError';
  readonly code = 'MANIFEST_SYNTAX' as const;

  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    readonly source?: ManifestSource,
    options?: { cause?: unknown },
  ) {
    super(`${source?.file ?? '<input>'}:${line}:${column}: ${reason}`, options);
  }
}
