import {
  DEFAULT_NETWORK_LAYOUT,
  MAX_ENDPOINT_INDEX,
  endpointAddresses,
  isLoopbackOrLinkLocal,
  validateLayout,
} from './addresses';
import { InvalidAddressError } from './errors';

describe('sandbox network addresses', () => {
  it('uses upstream’s fixed link-local pair by default', () => {
    expect(validateLayout(DEFAULT_NETWORK_LAYOUT)).toEqual({
      workerAddress: '169.254.17.1',
      sandboxAddress: '169.254.17.2',
      prefixLength: 30,
    });
  });

  it.each([
    ['10.0.0.1', '10.0.0.2'],
    ['192.168.1.1', '192.168.1.2'],
    ['127.0.0.1', '127.0.0.2'],
    ['169.254.1.1', '8.8.8.8'],
  ])('refuses %s / %s: only 169.254.0.0/16 inside the sandbox network', (workerAddress, sandboxAddress) => {
    expect(() => validateLayout({ workerAddress, sandboxAddress, prefixLength: 30 })).toThrow(
      InvalidAddressError,
    );
  });

  it('refuses addresses in different subnets, equal ones, and network or broadcast addresses', () => {
    const check = (workerAddress: string, sandboxAddress: string) => () =>
      validateLayout({ workerAddress, sandboxAddress, prefixLength: 30 });
    expect(check('169.254.17.1', '169.254.17.5')).toThrow('not in the same /30');
    expect(check('169.254.17.1', '169.254.17.1')).toThrow('equals the worker address');
    expect(check('169.254.17.1', '169.254.17.3')).toThrow('broadcast');
    expect(check('169.254.17.0', '169.254.17.1')).toThrow('network or broadcast');
    expect(check('169.254.17.1', 'not-an-ip')).toThrow('not an IPv4 address');
  });

  it('tells loopback and link-local apart from everything else', () => {
    expect(isLoopbackOrLinkLocal('127.0.0.1')).toBe(true);
    expect(isLoopbackOrLinkLocal('169.254.17.2')).toBe(true);
    expect(isLoopbackOrLinkLocal('169.255.0.1')).toBe(false);
    expect(isLoopbackOrLinkLocal('10.1.2.3')).toBe(false);
  });

  it('gives each forwarded worker its own /30 in 169.254.128.0/17, apart from the sandbox pair', () => {
    expect(endpointAddresses(0)).toEqual({
      hostAddress: '169.254.128.1',
      endpoint: '169.254.128.2',
      prefixLength: 30,
    });
    expect(endpointAddresses(1)).toEqual({
      hostAddress: '169.254.128.5',
      endpoint: '169.254.128.6',
      prefixLength: 30,
    });
    expect(endpointAddresses(64)).toEqual({
      hostAddress: '169.254.129.1',
      endpoint: '169.254.129.2',
      prefixLength: 30,
    });
    expect(endpointAddresses(MAX_ENDPOINT_INDEX)).toEqual({
      hostAddress: '169.254.255.253',
      endpoint: '169.254.255.254',
      prefixLength: 30,
    });
    expect(() => endpointAddresses(MAX_ENDPOINT_INDEX + 1)).toThrow(InvalidAddressError);
    expect(() => endpointAddresses(-1)).toThrow(InvalidAddressError);
    expect(() => endpointAddresses(1.5)).toThrow(InvalidAddressError);
  });
});
