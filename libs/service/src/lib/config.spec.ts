import { ConfigError, Settings } from './config';

describe('Settings', () => {
  const settings = new Settings({
    NAME: 'ateapi',
    EMPTY: '',
    PORT: '8080',
    BAD_PORT: '80a',
    BIG: '99999',
    FLAG: 'Yes',
    BAD_FLAG: 'maybe',
    MODE: 'jwt',
    LISTEN: '127.0.0.1:9443',
    LISTEN6: '[::1]:80',
    LISTEN_BAD: 'localhost',
  });

  it('reads strings with fallbacks and names a missing required setting', () => {
    expect(settings.string('NAME')).toBe('ateapi');
    expect(settings.string('EMPTY', 'default')).toBe('default');
    expect(() => settings.string('MISSING')).toThrow('invalid configuration: MISSING: required but not set');
  });

  it('reads bounded integers', () => {
    expect(settings.int('PORT', 1)).toBe(8080);
    expect(settings.int('UNSET', 7)).toBe(7);
    expect(() => settings.int('BAD_PORT', 1)).toThrow(
      'invalid configuration: BAD_PORT: expected an integer, got "80a"',
    );
    expect(() => settings.int('BIG', 1, { min: 1, max: 65535 })).toThrow(
      'invalid configuration: BIG: must be between 1 and 65535, got 99999',
    );
  });

  it('reads booleans and enums', () => {
    expect(settings.bool('FLAG', false)).toBe(true);
    expect(settings.bool('UNSET', true)).toBe(true);
    expect(() => settings.bool('BAD_FLAG', false)).toThrow(ConfigError);
    expect(settings.oneOf('MODE', ['mtls', 'jwt', 'none'], 'none')).toBe('jwt');
    expect(() => settings.oneOf('NAME', ['mtls', 'jwt'], 'mtls')).toThrow(
      'invalid configuration: NAME: must be one of mtls, jwt, got "ateapi"',
    );
  });

  it('parses listen addresses', () => {
    expect(settings.listenAddress('LISTEN', '')).toEqual({ host: '127.0.0.1', port: 9443 });
    expect(settings.listenAddress('LISTEN6', '')).toEqual({ host: '::1', port: 80 });
    expect(settings.listenAddress('UNSET', '127.0.0.1:1')).toEqual({ host: '127.0.0.1', port: 1 });
    expect(() => settings.listenAddress('LISTEN_BAD', '')).toThrow(
      'invalid configuration: LISTEN_BAD: expected host:port, got "localhost"',
    );
  });
});
