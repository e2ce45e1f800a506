import { InvalidStorageUriError } from './errors';
import { formatStorageUri, parseStorageUri, validateKey } from './uri';

describe('parseStorageUri', () => {
  it.each([
    ['s3://bucket', { scheme: 's3', bucket: 'bucket', prefix: '' }],
    ['s3://bucket/', { scheme: 's3', bucket: 'bucket', prefix: '' }],
    [
      's3://ate-snapshots/ate-demo-counter/',
      { scheme: 's3', bucket: 'ate-snapshots', prefix: 'ate-demo-counter/' },
    ],
    ['gs://b-1.x/a/b//', { scheme: 'gs', bucket: 'b-1.x', prefix: 'a/b/' }],
    ['GS://bucket/a%20b', { scheme: 'gs', bucket: 'bucket', prefix: 'a b/' }],
    ['file:///var/lib/substrate/snapshots/', { scheme: 'file', path: '/var/lib/substrate/snapshots' }],
    ['file://localhost/tmp/x', { scheme: 'file', path: '/tmp/x' }],
  ])('parses %s', (uri, expected) => {
    expect(parseStorageUri(uri)).toEqual(expected);
  });

  it.each([
    ['', 'empty'],
    ['/var/snapshots', 'missing scheme (file://, s3:// or gs://)'],
    ['s3://', 'missing bucket'],
    ['gs:///prefix', 'missing bucket'],
    ['s3:bucket/x', 'expected "s3://"'],
    ['azure://container/x', 'unsupported scheme "azure:" (use file://, s3:// or gs://)'],
    ['http://bucket/x', 'unsupported scheme "http:" (use file://, s3:// or gs://)'],
    ['s3://Bucket/x', 'bad bucket name "Bucket" (3-63 characters: lowercase letters, digits, ".", "-", "_")'],
    ['s3://ab/x', 'bad bucket name "ab" (3-63 characters: lowercase letters, digits, ".", "-", "_")'],
    ['s3://bucket/x?versionId=1', 'query and fragment are not allowed'],
    ['s3://key:secret@bucket/x', 'credentials in the URI are not allowed (put them in the configuration)'],
    ['s3://bucket:9000/x', 'a port is not allowed (set the endpoint in the configuration)'],
    ['s3://bucket/a/../b', 'bad prefix: invalid object key "a/../b": has a ".." segment'],
    ['s3://bucket/a/%2e%2e/b', 'bad prefix: invalid object key "a/../b": has a ".." segment'],
    ['s3://bucket/%E0%A4%A', 'malformed percent-encoding in the path'],
    ['file://host/dir', 'file URIs name a local directory: host "host" is not allowed'],
    ['file:///', 'the root directory cannot be a snapshot location'],
  ])('rejects %j: %s', (uri, reason) => {
    const err: unknown = (() => {
      try {
        parseStorageUri(uri);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InvalidStorageUriError);
    expect(err).toMatchObject({
      code: 'INVALID_URI',
      uri,
      message: `invalid snapshot location "${uri}": ${reason}`,
    });
  });

  it('formats a location back to its canonical URI', () => {
    expect(formatStorageUri(parseStorageUri('s3://bucket//a/b'))).toBe('s3://bucket/a/b/');
    expect(formatStorageUri(parseStorageUri('file:///tmp/x/'))).toBe('file:///tmp/x');
  });
});

describe('validateKey', () => {
  it('accepts clean relative keys', () => {
    expect(validateKey('actor/2026-05-22T21:49:15Z-ABC/pages.img.zstd')).toBe(
      'actor/2026-05-22T21:49:15Z-ABC/pages.img.zstd',
    );
  });

  it.each([
    ['', 'empty'],
    ['/a', 'must be relative (no leading "/")'],
    ['a/', 'has an empty path segment'],
    ['a//b', 'has an empty path segment'],
    ['a/./b', 'has a "." segment'],
    ['..', 'has a ".." segment'],
    ['a\\b', 'contains a backslash'],
    ['a\0b', 'contains NUL'],
  ])('rejects %j (%s)', (key, reason) => {
    expect(() => validateKey(key)).toThrow(`invalid object key "${key}": ${reason}`);
  });
});
