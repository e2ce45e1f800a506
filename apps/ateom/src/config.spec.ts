import { Settings } from '@substrate/service';
import { loadAteomConfig } from './config';

describe('ateom configuration', () => {
  it('defaults to a loopback listen address', () => {
    expect(loadAteomConfig(new Settings({})).http).toEqual({ host: '127.0.0.1', port: 8484 });
  });

  it('names the setting when it is malformed', () => {
    expect(() => loadAteomConfig(new Settings({ ATEOM_HTTP_LISTEN: 'nowhere' }))).toThrow(
      'invalid configuration: ATEOM_HTTP_LISTEN: expected host:port, got "nowhere"',
    );
  });
});
