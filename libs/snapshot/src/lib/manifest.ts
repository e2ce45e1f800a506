import {
  ManifestSyntaxError,
  ManifestValidationError,
  UnsupportedFormatError,
  type ManifestIssue,
} from './errors';
import { type Extent } from './extents';
import { FILE_ENCODING, STREAM_HEADER_LENGTH, type FileEncoding } from './format';
import { fileNameProblem } from './names';

/** The manifest format version this build writes and reads. */
export const MANIFEST_FORMAT_VERSION = 1;

/** Sandbox classes a snapshot can be taken in (upstream's `sandboxClass`). */
export const SANDBOX_CLASSES = ['gvisor', 'microvm'] as const;
/** See {@link SANDBOX_CLASSES}. */
export type SandboxClass = (typeof SANDBOX_CLASSES)[number];

/** What a snapshot holds: memory plus the whole filesystem (`Full`), or only the durable directory (`Data`). */
export const SNAPSHOT_SCOPES = ['Full', 'Data'] as const;
/** See {@link SNAPSHOT_SCOPES}. */
export type SnapshotScope = (typeof SNAPSHOT_SCOPES)[number];

/**
 * The asset that is the runtime binary for each sandbox class. A manifest must record it, so a restore uses
 * the binary the snapshot was taken with rather than whatever the cluster runs today.
 */
export const RUNTIME_ASSET: Readonly<Record<SandboxClass, string>> = {
  gvisor: 'runsc',
  microvm: 'cloud-hypervisor',
};

/** A binary the sandbox was run with: where it was fetched from and its SHA-256 (upstream's `assets` entry). */
export interface RuntimeAsset {
  readonly url: string;
  /** 64 lowercase hex digits. */
  readonly sha256: string;
}

/** One file of a snapshot, stored as the object `<name>.zstd` in the layout of {@link FILE_ENCODING}. */
export interface SnapshotFileEntry {
  /** Relative path of the file inside the checkpoint directory, e.g. `pages.img`. */
  readonly name: string;
  /** Layout of the compressed object. */
  readonly encoding: FileEncoding;
  /** Apparent size of the file in bytes (holes included). */
  readonly rawSize: number;
  /** Size of the compressed object in bytes (clear header included). */
  readonly compressedSize: number;
  /**
   * CRC-32 (IEEE, as zlib and S3's `x-amz-checksum-crc32` compute it) of the whole compressed object, as
   * 8 lowercase hex digits. It catches damage to the stored bytes even where zstd would decode them to the
   * same content, and it is cheap enough to check on every download.
   */
  readonly compressedCrc32: string;
  /**
   * SHA-256 (lowercase hex) of the whole compressed object. zstd's decoding is deterministic, so an object
   * with this digest decodes to exactly the data that was encoded: a download checks this one digest over
   * the compressed bytes (a third to a tenth of the data) instead of hashing the decoded data. Absent in
   * snapshots written before it existed; their downloads check {@link sha256} and the CRC-32 instead.
   */
  readonly compressedSha256?: string;
  /**
   * SHA-256 (lowercase hex) of the file's data: the bytes of `extents`, concatenated in order. Holes are
   * described by `extents` and `rawSize` and are not hashed, so a file without holes has the digest that
   * `sha256sum` prints.
   */
  readonly sha256: string;
  /** Data extents, ascending, neither overlapping nor touching; the rest of the file is holes. */
  readonly extents: readonly Extent[];
  /**
   * The zstd frames of the compressed object, in order after the clear header: each frame's compressed size
   * and the size of the payload it decodes to. Every frame holds whole extent records, so frames decode
   * independently, on several threads at once (see `decodeToFile`). Absent in snapshots written before it
   * existed (one frame); readers that stream the object need not look at it.
   */
  readonly frames?: readonly SnapshotFrame[];
}

/** One zstd frame of a compressed object (see {@link SnapshotFileEntry.frames}). */
export interface SnapshotFrame {
  /** Bytes of the frame in the object. */
  readonly compressed: number;
  /** Bytes of payload it decodes to (record headers included). */
  readonly payload: number;
}

/**
 * `manifest.json`: the self-description and commit marker of a snapshot. A superset of upstream's manifest
 * (`sandboxClass`, `assets`, `snapshotFiles`), so upstream readers find the fields they know.
 */
export interface SnapshotManifest {
  readonly formatVersion: typeof MANIFEST_FORMAT_VERSION;
  readonly sandboxClass: SandboxClass;
  readonly scope: SnapshotScope;
  /** RFC 3339 time the snapshot was taken, e.g. `2026-05-22T21:49:15.123Z`. */
  readonly createdAt: string;
  /** Binaries by name; always holds the runtime binary of the sandbox class (see {@link RUNTIME_ASSET}). */
  readonly assets: Readonly<Record<string, RuntimeAsset>>;
  /** Names of `files`, in the same order (upstream's field). */
  readonly snapshotFiles: readonly string[];
  readonly files: readonly SnapshotFileEntry[];
}

/** What {@link createManifest} needs; the rest is derived. */
export interface ManifestInput {
  readonly sandboxClass: SandboxClass;
  readonly scope: SnapshotScope;
  readonly assets: Readonly<Record<string, RuntimeAsset>>;
  readonly files: readonly SnapshotFileEntry[];
  /** Defaults to now. */
  readonly createdAt?: Date;
}

const TOP_LEVEL_FIELDS = [
  'formatVersion',
  'sandboxClass',
  'scope',
  'createdAt',
  'assets',
  'snapshotFiles',
  'files',
] as const;
const FRAME_FIELDS = ['compressed', 'payload'] as const;

const FILE_FIELDS = [
  'name',
  'encoding',
  'rawSize',
  'compressedSize',
  'compressedCrc32',
  'compressedSha256',
  'frames',
  'sha256',
  'extents',
] as const;
const CRC32 = /^[0-9a-f]{8}$/;
const ASSET_FIELDS = ['url', 'sha256'] as const;
const EXTENT_FIELDS = ['offset', 'length'] as const;
const SHA256 = /^[0-9a-f]{64}$/;
const ASSET_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const URL_SCHEMES = ['gs:', 's3:', 'https:', 'http:', 'file:'];

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function quoteAll(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/** Collects issues while walking a parsed document. */
class Checker {
  readonly issues: ManifestIssue[] = [];

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** Reports fields of `value` not in `allowed`; returns false when `value` is not an object. */
  object(path: string, value: unknown, allowed: readonly string[]): value is Json {
    if (!isObject(value)) {
      this.add(path, 'must be an object');
      return false;
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.add(join(path, key), 'unknown field');
    }
    return true;
  }

  required(path: string, value: unknown): boolean {
    if (value === undefined) {
      this.add(path, 'required');
      return false;
    }
    return true;
  }

  string(path: string, value: unknown): value is string {
    if (!this.required(path, value)) return false;
    if (typeof value !== 'string') {
      this.add(path, 'must be a string');
      return false;
    }
    return true;
  }

  size(path: string, value: unknown): value is number {
    if (!this.required(path, value)) return false;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      this.add(path, 'must be a non-negative integer');
      return false;
    }
    return true;
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): value is T {
    if (!this.string(path, value)) return false;
    if (!(allowed as readonly string[]).includes(value)) {
      this.add(path, `must be one of ${quoteAll(allowed)}`);
      return false;
    }
    return true;
  }

  sha256(path: string, value: unknown): void {
    if (this.string(path, value) && !SHA256.test(value)) this.add(path, 'must be 64 lowercase hex digits');
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function checkAsset(c: Checker, path: string, value: unknown): void {
  if (!c.object(path, value, ASSET_FIELDS)) return;
  if (c.string(`${path}.url`, value['url'])) {
    let scheme: string | undefined;
    try {
      scheme = new URL(value['url']).protocol;
    } catch {
      scheme = undefined;
    }
    if (scheme === undefined || !URL_SCHEMES.includes(scheme)) {
      c.add(`${path}.url`, 'must be an absolute gs://, s3://, https://, http:// or file:// URL');
    }
  }
  c.sha256(`${path}.sha256`, value['sha256']);
}

function checkExtents(c: Checker, path: string, value: unknown, rawSize: number | undefined): void {
  if (!c.required(path, value)) return;
  if (!Array.isArray(value)) {
    c.add(path, 'must be an array');
    return;
  }
  let previousEnd = -1;
  value.forEach((extent: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!c.object(at, extent, EXTENT_FIELDS)) return;
    const offsetOk = c.size(`${at}.offset`, extent['offset']);
    const length = extent['length'];
    let lengthOk = c.size(`${at}.length`, length);
    if (lengthOk && length === 0) {
      c.add(`${at}.length`, 'must be positive');
      lengthOk = false;
    }
    if (!offsetOk || !lengthOk) return;
    const offset = extent['offset'] as number;
    const end = offset + (length as number);
    if (offset <= previousEnd && previousEnd >= 0) {
      c.add(
        `${at}.offset`,
        `must be greater than ${previousEnd}, where the previous extent ends (extents are sorted, neither overlapping nor touching)`,
      );
    }
    if (rawSize !== undefined && end > rawSize) {
      c.add(at, `ends at ${end}, past rawSize ${rawSize}`);
    }
    previousEnd = end;
  });
}

function checkFile(c: Checker, path: string, value: unknown, seen: Map<string, string>): void {
  if (!c.object(path, value, FILE_FIELDS)) return;
  const name = value['name'];
  if (c.string(`${path}.name`, name)) {
    const problem = fileNameProblem(name);
    if (problem !== undefined) c.add(`${path}.name`, problem);
    const first = seen.get(name);
    if (first !== undefined) c.add(`${path}.name`, `duplicate of ${first}`);
    else seen.set(name, `${path}.name`);
  }
  c.oneOf(`${path}.encoding`, value['encoding'], [FILE_ENCODING]);
  const rawSizeOk = c.size(`${path}.rawSize`, value['rawSize']);
  if (c.size(`${path}.compressedSize`, value['compressedSize'])) {
    if ((value['compressedSize'] as number) < STREAM_HEADER_LENGTH) {
      c.add(`${path}.compressedSize`, `must be at least ${STREAM_HEADER_LENGTH} (the stream header)`);
    }
  }
  const crc = value['compressedCrc32'];
  if (c.string(`${path}.compressedCrc32`, crc) && !CRC32.test(crc)) {
    c.add(`${path}.compressedCrc32`, 'must be 8 lowercase hex digits');
  }
  if (value['compressedSha256'] !== undefined) {
    c.sha256(`${path}.compressedSha256`, value['compressedSha256']);
  }
  c.sha256(`${path}.sha256`, value['sha256']);
  checkExtents(c, `${path}.extents`, value['extents'], rawSizeOk ? (value['rawSize'] as number) : undefined);
  if (value['frames'] !== undefined) checkFrames(c, `${path}.frames`, value);
}

/** Bytes of payload around the records: the file size before them and the end marker after. */
const PAYLOAD_FRAMING = 16;
/** Bytes before each record's data (offset and length). */
const RECORD_HEADER = 16;

/**
 * `frames` must add up: the compressed sizes to the object's size after the header, the payload sizes to
 * the framing, the data and a whole number of record headers.
 */
function checkFrames(c: Checker, path: string, file: Record<string, unknown>): void {
  const frames = file['frames'];
  if (!Array.isArray(frames) || frames.length === 0) {
    c.add(path, 'must be a non-empty array');
    return;
  }
  let compressed = 0;
  let payload = 0;
  let ok = true;
  frames.forEach((frame: unknown, i) => {
    if (!c.object(`${path}[${i}]`, frame, FRAME_FIELDS)) {
      ok = false;
      return;
    }
    for (const field of FRAME_FIELDS) {
      const size = frame[field];
      if (!c.size(`${path}[${i}].${field}`, size) || size === 0) {
        if (size === 0) c.add(`${path}[${i}].${field}`, 'must be positive');
        ok = false;
      } else if (field === 'compressed') compressed += size;
      else payload += size;
    }
  });
  if (!ok) return;
  const compressedSize = file['compressedSize'];
  if (typeof compressedSize === 'number' && compressed + STREAM_HEADER_LENGTH !== compressedSize) {
    c.add(path, `compressed sizes add up to ${compressed}, not compressedSize less the header`);
  }
  const extents = file['extents'];
  if (Array.isArray(extents) && extents.every((e) => isObject(e) && typeof e['length'] === 'number')) {
    const data = extents.reduce((sum: number, e) => sum + (e as { length: number }).length, 0);
    const headers = payload - PAYLOAD_FRAMING - data;
    if (headers < RECORD_HEADER * extents.length || headers % RECORD_HEADER !== 0) {
      c.add(path, `payload sizes add up to ${payload}, which does not fit ${data} data bytes in records`);
    }
  }
}

function checkFormatVersion(document: unknown): void {
  if (!isObject(document)) return;
  const version = document['formatVersion'];
  if (typeof version === 'number' && Number.isSafeInteger(version) && version > MANIFEST_FORMAT_VERSION) {
    throw new UnsupportedFormatError(
      `formatVersion: manifest format ${version} is newer than this build reads (${MANIFEST_FORMAT_VERSION})`,
    );
  }
}

function collectIssues(document: unknown): ManifestIssue[] {
  const c = new Checker();
  if (!isObject(document)) {
    c.add('', 'a manifest must be a JSON object');
    return c.issues;
  }
  c.object('', document, TOP_LEVEL_FIELDS);
  const version = document['formatVersion'];
  if (version === undefined) {
    c.add('formatVersion', 'required (manifests without it are written by upstream Substrate)');
  } else if (version !== MANIFEST_FORMAT_VERSION) {
    c.add('formatVersion', `must be ${MANIFEST_FORMAT_VERSION}`);
  }
  const sandboxClass = document['sandboxClass'];
  const classOk = c.oneOf('sandboxClass', sandboxClass, SANDBOX_CLASSES);
  c.oneOf('scope', document['scope'], SNAPSHOT_SCOPES);
  const createdAt = document['createdAt'];
  if (c.string('createdAt', createdAt)) {
    if (!RFC3339.test(createdAt) || Number.isNaN(Date.parse(createdAt))) {
      c.add('createdAt', 'must be an RFC 3339 timestamp such as 2026-05-22T21:49:15Z');
    }
  }

  const assets = document['assets'];
  if (c.required('assets', assets)) {
    if (!isObject(assets)) {
      c.add('assets', 'must be an object');
    } else {
      for (const [name, asset] of Object.entries(assets)) {
        if (!ASSET_NAME.test(name))
          c.add(`assets.${name}`, 'asset names are lowercase [a-z0-9._-], at most 63');
        checkAsset(c, `assets.${name}`, asset);
      }
      if (classOk) {
        const runtime = RUNTIME_ASSET[sandboxClass];
        if (assets[runtime] === undefined) {
          c.add(
            `assets.${runtime}`,
            `required: a ${sandboxClass} snapshot records the ${runtime} binary it was taken with`,
          );
        }
      }
    }
  }

  const files = document['files'];
  const names: string[] = [];
  if (c.required('files', files)) {
    if (!Array.isArray(files)) {
      c.add('files', 'must be an array');
    } else if (files.length === 0) {
      c.add('files', 'must list at least one file');
    } else {
      const seen = new Map<string, string>();
      files.forEach((file: unknown, i) => {
        checkFile(c, `files[${i}]`, file, seen);
        names.push(isObject(file) && typeof file['name'] === 'string' ? file['name'] : '');
      });
    }
  }

  const snapshotFiles = document['snapshotFiles'];
  if (c.required('snapshotFiles', snapshotFiles)) {
    if (!Array.isArray(snapshotFiles)) {
      c.add('snapshotFiles', 'must be an array');
    } else if (Array.isArray(files)) {
      if (snapshotFiles.length !== files.length) {
        c.add('snapshotFiles', `must have ${files.length} entries, the names of files in order`);
      } else {
        snapshotFiles.forEach((name: unknown, i) => {
          if (name !== names[i]) {
            c.add(`snapshotFiles[${i}]`, `must be ${JSON.stringify(names[i])}, the name of files[${i}]`);
          }
        });
      }
    }
  }
  return c.issues;
}

/**
 * Every problem with `document` as a manifest (empty when it is valid). Each issue names the field by path,
 * e.g. `files[1].extents[0].length: must be positive`.
 *
 * @throws UnsupportedFormatError when the manifest's `formatVersion` is newer than this build reads.
 */
export function manifestIssues(document: unknown): ManifestIssue[] {
  checkFormatVersion(document);
  return collectIssues(document);
}

/**
 * Checks an already parsed document and returns it typed as a manifest.
 *
 * @throws ManifestValidationError listing every problem, or UnsupportedFormatError for a newer format.
 */
export function validateManifest(document: unknown): SnapshotManifest {
  const issues = manifestIssues(document);
  if (issues.length > 0) throw new ManifestValidationError(issues);
  return document as SnapshotManifest;
}

/**
 * Parses and validates the text of `manifest.json`.
 *
 * @throws ManifestSyntaxError for malformed JSON, ManifestValidationError or UnsupportedFormatError for a
 * document that is not an acceptable manifest.
 */
export function parseManifest(text: string | Uint8Array): SnapshotManifest {
  const source = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  let document: unknown;
  try {
    document = JSON.parse(source);
  } catch (error) {
    throw new ManifestSyntaxError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  return validateManifest(document);
}

/**
 * Checks one file entry on its own (as the decoder does before it trusts the entry).
 *
 * @throws ManifestValidationError with paths relative to the entry (`extents[0].length`).
 */
export function validateFileEntry(entry: unknown): SnapshotFileEntry {
  const c = new Checker();
  checkFile(c, '', entry, new Map());
  if (c.issues.length > 0) {
    throw new ManifestValidationError(
      c.issues.map((issue) => ({ ...issue, path: issue.path.replace(/^\./, '') })),
    );
  }
  return entry as SnapshotFileEntry;
}

/** The manifest's canonical JSON: validated, fields in a fixed order, two-space indentation, final newline. */
export function serializeManifest(manifest: SnapshotManifest): string {
  const valid = validateManifest(manifest);
  const canonical = {
    formatVersion: valid.formatVersion,
    sandboxClass: valid.sandboxClass,
    scope: valid.scope,
    createdAt: valid.createdAt,
    assets: Object.fromEntries(
      Object.keys(valid.assets)
        .sort()
        .map((name) => {
          const asset = valid.assets[name] as RuntimeAsset;
          return [name, { url: asset.url, sha256: asset.sha256 }];
        }),
    ),
    snapshotFiles: [...valid.snapshotFiles],
    files: valid.files.map((file) => ({
      name: file.name,
      encoding: file.encoding,
      rawSize: file.rawSize,
      compressedSize: file.compressedSize,
      compressedCrc32: file.compressedCrc32,
      ...(file.compressedSha256 === undefined ? {} : { compressedSha256: file.compressedSha256 }),
      sha256: file.sha256,
      extents: file.extents.map(({ offset, length }) => ({ offset, length })),
      ...(file.frames === undefined
        ? {}
        : { frames: file.frames.map(({ compressed, payload }) => ({ compressed, payload })) }),
    })),
  };
  return `${JSON.stringify(canonical, null, 2)}\n`;
}

/**
 * Builds a manifest from the encoder's file entries; derives `formatVersion`, `snapshotFiles` and (unless
 * given) `createdAt`.
 *
 * @throws ManifestValidationError when the result would not be a valid manifest.
 */
export function createManifest(input: ManifestInput): SnapshotManifest {
  return validateManifest({
    formatVersion: MANIFEST_FORMAT_VERSION,
    sandboxClass: input.sandboxClass,
    scope: input.scope,
    createdAt: (input.createdAt ?? new Date()).toISOString(),
    assets: input.assets,
    snapshotFiles: input.files.map((file) => file.name),
    files: input.files,
  });
}

/** The runtime binary the snapshot was taken with (see {@link RUNTIME_ASSET}). */
export function runtimeBinary(manifest: SnapshotManifest): RuntimeAsset {
  const asset = manifest.assets[RUNTIME_ASSET[manifest.sandboxClass]];
  if (asset === undefined) {
    // validateManifest guarantees it; a hand-built object that skipped validation lands here.
    throw new ManifestValidationError([
      { path: `assets.${RUNTIME_ASSET[manifest.sandboxClass]}`, message: 'required' },
    ]);
  }
  return asset;
}
