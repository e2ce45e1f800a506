import { Settings } from '@substrate/service';
import { loadAteletConfig } from './config';

describe('atelet configuration', () => {
  it('defaults to a loopback listen address', () => {
    expect(loadAteletConfig(new Settings({})).http).toEqual({ host: '127.0.0.1', port: 8483 });
  });

  it('names the setting when it is malformed', () => {
    expect(() => loadAteletConfig(new Settings({ ATELET_HTTP_LISTEN: 'nowhere' }))).toThrow(
      'invalid configuration: ATELET_HTTP_LISTEN: expected host:port, got "nowhere"',
    );
  });
});
