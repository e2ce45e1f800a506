import { parseImageReference } from './image-reference';

describe('parseImageReference', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  it.each([
    ['oci:/images/counter:counter', { kind: 'layout', dir: '/images/counter', tag: 'counter' }],
    [`oci:/images/counter@${digest}`, { kind: 'layout', dir: '/images/counter', digest }],
    ['oci:/images/counter', { kind: 'layout', dir: '/images/counter' }],
    [
      '127.0.0.1:5000/demo/counter:v1',
      { kind: 'registry', registry: '127.0.0.1:5000', repository: 'demo/counter', tag: 'v1' },
    ],
    [
      `localhost/counter@${digest}`,
      { kind: 'registry', registry: 'localhost', repository: 'counter', digest },
    ],
    [
      'busybox',
      { kind: 'registry', registry: 'registry-1.docker.io', repository: 'library/busybox', tag: 'latest' },
    ],
    ['ghcr.io/org/app', { kind: 'registry', registry: 'ghcr.io', repository: 'org/app', tag: 'latest' }],
  ])('%s', (reference, expected) => {
    expect(parseImageReference(reference)).toEqual(expected);
  });

  it.each([
    ['', 'empty'],
    ['oci:relative:tag', 'must be an absolute path'],
    ['oci:/x@sha256:abc', 'digest must be sha256:<64 hex>'],
    ['Registry.io/UPPER', 'bad repository'],
  ])('refuses %j', (reference, message) => {
    expect(() => parseImageReference(reference)).toThrow(message);
  });
});
