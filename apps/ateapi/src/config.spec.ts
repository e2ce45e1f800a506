import { Settings } from '@substrate/service';
import { loadAteapiConfig } from './config';

describe('ateapi configuration', () => {
  it('defaults to a loopback listen address', () => {
    expect(loadAteapiConfig(new Settings({})).http).toEqual({ host: '127.0.0.1', port: 8480 });
  });

  it('names the setting when it is malformed', () => {
    expect(() => loadAteapiConfig(new Settings({ ATEAPI_HTTP_LISTEN: 'nowhere' }))).toThrow(
      'invalid configuration: ATEAPI_HTTP_LISTEN: expected host:port, got "nowhere"',
    );
  });
});
