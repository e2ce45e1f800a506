import { Settings } from '@substrate/service';
import { loadAtenetConfig } from './config';

describe('atenet configuration', () => {
  it('defaults to a loopback listen address', () => {
    expect(loadAtenetConfig(new Settings({})).http).toEqual({ host: '127.0.0.1', port: 8482 });
  });

  it('names the setting when it is malformed', () => {
    expect(() => loadAtenetConfig(new Settings({ ATENET_HTTP_LISTEN: 'nowhere' }))).toThrow(
      'invalid configuration: ATENET_HTTP_LISTEN: expected host:port, got "nowhere"',
    );
  });
});
