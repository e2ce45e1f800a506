import { endpointAddress, render } from './manifests';

describe('local manifests', () => {
  it('fills in every placeholder and refuses an unknown one', () => {
    expect(
      render('image: ${IMAGE}\nport: ${PORT}', { IMAGE: 'oci:/x@sha256:1', PORT: '8080' }, 'f.yaml'),
    ).toBe('image: oci:/x@sha256:1\nport: 8080');
    expect(() => render('image: ${IMAGE}', {}, 'f.yaml')).toThrow('f.yaml: no value for ${IMAGE}');
  });

  it('numbers worker endpoints like ateom does', () => {
    expect(endpointAddress(0)).toBe('169.254.128.2');
    expect(endpointAddress(7)).toBe('169.254.128.30');
    expect(endpointAddress(64)).toBe('169.254.129.2');
  });
});
