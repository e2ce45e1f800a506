/** Stable codes of the errors this library throws; switch on `code`, never on the message. */
export type SnapshotErrorCode =
  | 'MANIFEST_SYNTAX'
  | 'MANIFEST_INVALID'
  | 'UNSUPPORTED_FORMAT'
  | 'INVALID_FILE_NAME'
  | 'NOT_A_REGULAR_FILE'
  | 'SOURCE_CHANGED'
  | 'ENCODE_ABORTED'
  | 'CHECKSUM_MISMATCH'
  | 'TRUNCATED'
  | 'CORRUPT_STREAM'
  | 'SIZE_MISMATCH'
  | 'EXTENT_MISMATCH';

/** Base class of every error this library throws. */
export abstract class SnapshotError extends Error {
  abstract readonly code: SnapshotErrorCode;
}

/** One problem in a manifest. `path` points at the field: `files[2].extents[0].length`. */
export interface ManifestIssue {
  readonly path: string;
  readonly message: string;
}

/** `path: message`, or just the message for a problem with the whole document. */
export function formatManifestIssue(issue: ManifestIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** `manifest.json` is not valid JSON. */
export class ManifestSyntaxError extends SnapshotError {
  override readonly name = 'ManifestSyntaxError';
  readonly code = 'MANIFEST_SYNTAX' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super(`manifest.json is not valid JSON: ${message}`, options);
  }
}

/** A manifest is well-formed JSON but breaks the format's rules; every problem is listed in `issues`. */
export class ManifestValidationError extends SnapshotError {
  override readonly name = 'ManifestValidationError';
  readonly code = 'MANIFEST_INVALID' as const;

  constructor(
    /** Every problem found, in document order. Never empty. */
    readonly issues: readonly ManifestIssue[],
  ) {
    super(`invalid manifest: ${issues.map(formatManifestIssue).join('; ')}`);
  }
}

/** A manifest or a compressed stream uses a format version this build cannot read. */
export class UnsupportedFormatError extends SnapshotError {
  override readonly name = 'UnsupportedFormatError';
  readonly code = 'UNSUPPORTED_FORMAT' as const;
}

/** A snapshot file name is not a clean relative path (absolute, `..`, empty segment, control characters…). */
export class InvalidFileNameError extends SnapshotError {
  override readonly name = 'InvalidFileNameError';
  readonly code = 'INVALID_FILE_NAME' as const;

  constructor(
    readonly fileName: string,
    reason: string,
  ) {
    super(`invalid snapshot file name ${JSON.stringify(fileName)}: ${reason}`);
  }
}

/** The encoder was given something that is not a regular file (a directory, a device, a socket…). */
export class NotARegularFileError extends SnapshotError {
  override readonly name = 'NotARegularFileError';
  readonly code = 'NOT_A_REGULAR_FILE' as const;

  constructor(readonly path: string) {
    super(`${path} is not a regular file`);
  }
}

/** The file being encoded changed size while it was read; the partial stream must be discarded. */
export class SourceChangedError extends SnapshotError {
  override readonly name = 'SourceChangedError';
  readonly code = 'SOURCE_CHANGED' as const;

  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path} ${detail}`);
  }
}

/** The consumer stopped reading an encoded stream (destroyed it) before its end, so no entry exists. */
export class EncodeAbortedError extends SnapshotError {
  override readonly name = 'EncodeAbortedError';
  readonly code = 'ENCODE_ABORTED' as const;

  constructor(
    readonly fileName: string,
    options?: { cause?: unknown },
  ) {
    super(
      `encoding of snapshot file ${JSON.stringify(fileName)} was abandoned before the end of its stream`,
      options,
    );
  }
}

/** Codes of {@link SnapshotIntegrityError}. */
export type IntegrityErrorCode = Extract<
  SnapshotErrorCode,
  'CHECKSUM_MISMATCH' | 'TRUNCATED' | 'CORRUPT_STREAM' | 'SIZE_MISMATCH' | 'EXTENT_MISMATCH'
>;

/**
 * A compressed snapshot file failed verification while it was decoded: its data or its compressed bytes do
 * not match the manifest's sha256 or crc32 (`CHECKSUM_MISMATCH`), it ends early (`TRUNCATED`), it cannot be decoded or breaks the
 * stream layout (`CORRUPT_STREAM`), or its sizes or extents disagree with the manifest (`SIZE_MISMATCH`,
 * `EXTENT_MISMATCH`). The file it names was not restored.
 */
export class SnapshotIntegrityError extends SnapshotError {
  override readonly name = 'SnapshotIntegrityError';

  constructor(
    readonly code: IntegrityErrorCode,
    /** Name of the snapshot file (as in the manifest) that failed. */
    readonly fileName: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`snapshot file ${JSON.stringify(fileName)}: ${detail}`, options);
  }
}

/** True for any error thrown by this library. */
export function isSnapshotError(error: unknown): error is SnapshotError {
  return error instanceof SnapshotError;
}

/** True for a {@link SnapshotIntegrityError}, optionally with the given code. */
export function isIntegrityError(error: unknown, code?: IntegrityErrorCode): error is SnapshotIntegrityError {
  return error instanceof SnapshotIntegrityError && (code === undefined || error.code === code);
}
