import { Settings } from '@substrate/service';
import { loadAtecontrollerConfig } from './config';

describe('atecontroller configuration', () => {
  it('defaults to a loopback listen address', () => {
    expect(loadAtecontrollerConfig(new Settings({})).http).toEqual({ host: '127.0.0.1', port: 8481 });
  });

  it('names the setting when it is malformed', () => {
    expect(() => loadAtecontrollerConfig(new Settings({ ATECONTROLLER_HTTP_LISTEN: 'nowhere' }))).toThrow(
      'invalid configuration: ATECONTROLLER_HTTP_LISTEN: expected host:port, got "nowhere"',
    );
  });
});
