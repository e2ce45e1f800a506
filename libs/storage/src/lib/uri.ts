import { InvalidKeyError, InvalidStorageUriError } from './errors';

/** A parsed snapshot location. `prefix` is `''` or ends with `/`. */
export type StorageLocation =
  | { readonly scheme: 'file'; readonly path: string }
  | { readonly scheme: 's3' | 'gs'; readonly bucket: string; readonly prefix: string };

/** The URI schemes {@link parseStorageUri} accepts. */
export const STORAGE_SCHEMES = ['file', 's3', 'gs'] as const;

// S3 and GCS (without the dotted-domain form) agree on this shape; GCS also allows `_`.
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/**
 * Checks that `key` is a clean relative object key: not empty, no leading `/`, no empty, `.` or `..`
 * segment, no backslash or NUL. Throws {@link InvalidKeyError}.
 */
export function validateKey(key: string): string {
  if (key.length === 0) throw new InvalidKeyError(key, 'empty');
  if (key.includes('\0')) throw new InvalidKeyError(key, 'contains NUL');
  if (key.includes('\\')) throw new InvalidKeyError(key, 'contains a backslash');
  if (key.startsWith('/')) throw new InvalidKeyError(key, 'must be relative (no leading "/")');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidKeyError(key, 'has an empty path segment');
    if (segment === '.' || segment === '..') throw new InvalidKeyError(key, `has a "${segment}" segment`);
  }
  return key;
}

/** Checks a listing prefix: `''` (everything) or a string that would be a valid key prefix. */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  // A prefix may end in "/" or mid-segment; validate it as a key without its trailing slash.
  validateKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

function normalizePrefix(uri: string, rawPath: string): string {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new InvalidStorageUriError(uri, 'malformed percent-encoding in the path');
  }
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  try {
    validateKey(trimmed);
  } catch (err) {
    throw new InvalidStorageUriError(uri, `bad prefix: ${(err as Error).message}`);
  }
  return `${trimmed}/`;
}

/**
 * Parses a snapshot location: `file:///abs/dir`, `s3://bucket[/prefix]`, `gs://bucket[/prefix]`.
 * Throws {@link InvalidStorageUriError} naming the problem (e.g. `invalid snapshot location "s3://": missing
 * bucket`).
 */
export function parseStorageUri(uri: string): StorageLocation {
  if (uri.trim() === '') throw new InvalidStorageUriError(uri, 'empty');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) throw new InvalidStorageUriError(uri, 'missing scheme (file://, s3:// or gs://)');
  if (!(STORAGE_SCHEMES as readonly string[]).includes(scheme)) {
    throw new InvalidStorageUriError(uri, `unsupported scheme "${scheme}:" (use file://, s3:// or gs://)`);
  }
  if (!uri.slice(scheme.length + 1).startsWith('//')) {
    throw new InvalidStorageUriError(uri, `expected "${scheme}://"`);
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidStorageUriError(uri, 'not a valid URI');
  }
  if (url.search !== '' || url.hash !== '')
    throw new InvalidStorageUriError(uri, 'query and fragment are not allowed');
  if (url.username !== '' || url.password !== '') {
    throw new InvalidStorageUriError(
      uri,
      'credentials in the URI are not allowed (put them in the configuration)',
    );
  }
  if (url.port !== '')
    throw new InvalidStorageUriError(uri, 'a port is not allowed (set the endpoint in the configuration)');
  // The raw path, not url.pathname: the URL parser silently resolves "." and ".." segments.
  const afterAuthority = uri.slice(scheme.length + 3);
  const slash = afterAuthority.indexOf('/');
  const rawPath = slash < 0 ? '' : afterAuthority.slice(slash);

  if (scheme === 'file') {
    if (url.hostname !== '' && url.hostname !== 'localhost') {
      throw new InvalidStorageUriError(
        uri,
        `file URIs name a local directory: host "${url.hostname}" is not allowed`,
      );
    }
    const prefix = normalizePrefix(uri, rawPath);
    if (prefix === '')
      throw new InvalidStorageUriError(uri, 'the root directory cannot be a snapshot location');
    return { scheme, path: `/${prefix.slice(0, -1)}` };
  }
  const bucket = url.hostname;
  if (bucket === '') throw new InvalidStorageUriError(uri, 'missing bucket');
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw new InvalidStorageUriError(
      uri,
      `bad bucket name "${bucket}" (3-63 characters: lowercase letters, digits, ".", "-", "_")`,
    );
  }
  return { scheme: scheme as 's3' | 'gs', bucket, prefix: normalizePrefix(uri, rawPath) };
}

/** The canonical URI of a location (`s3://b/p/`, `file:///dir`). */
export function formatStorageUri(location: StorageLocation): string {
  return location.scheme === 'file'
    ? `file://${location.path}`
    : `${location.scheme}://${location.bucket}/${location.prefix}`;
}
