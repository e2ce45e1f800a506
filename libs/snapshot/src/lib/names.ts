import { InvalidFileNameError } from './errors';

/** Name of the manifest object in a snapshot prefix. It is written last and marks the snapshot committed. */
export const MANIFEST_FILE_NAME = 'manifest.json';

/** Suffix of the object that holds one compressed snapshot file (upstream's layout: `pages.img.zstd`). */
export const COMPRESSED_SUFFIX = '.zstd';

const MAX_NAME_LENGTH = 4096;
const MAX_SEGMENT_LENGTH = 255;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * Why `name` is not an acceptable snapshot file name, or `undefined` when it is. A name is a relative POSIX
 * path (`pages.img`, `durable/multitar.img`): not empty, not absolute, `/` separators only, no empty, `.` or
 * `..` segments, no control characters, at most 4096 characters with segments of at most 255 bytes, and not
 * the manifest's own name.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (CONTROL_CHARACTERS.test(name)) return 'must not contain control characters';
  if (name.startsWith('/')) return 'must be a relative path, not absolute';
  if (name.includes('\\')) return 'must use / as the separator, not \\';
  for (const segment of name.split('/')) {
    if (segment === '') return 'must not contain empty segments (// or a trailing /)';
    if (segment === '.' || segment === '..') return 'must not contain . or .. segments';
    if (Buffer.byteLength(segment) > MAX_SEGMENT_LENGTH) {
      return `must not have a segment longer than ${MAX_SEGMENT_LENGTH} bytes`;
    }
  }
  if (name === MANIFEST_FILE_NAME) return `is reserved for the manifest`;
  return undefined;
}

/** Throws {@link InvalidFileNameError} unless `name` is an acceptable snapshot file name (see {@link fileNameProblem}). */
export function assertFileName(name: string): void {
  const problem = fileNameProblem(name);
  if (problem !== undefined) throw new InvalidFileNameError(name, problem);
}

/** Object name, relative to the snapshot prefix, that holds the compressed form of the file `name`. */
export function compressedObjectName(name: string): string {
  assertFileName(name);
  return `${name}${COMPRESSED_SUFFIX}`;
}
