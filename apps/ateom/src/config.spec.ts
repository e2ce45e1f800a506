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

  it('turns the /proc/sys/net workaround on only where needed by default', () => {
    expect(loadAteomConfig(new Settings({})).runsc).toEqual({ path: 'runsc', procSysNetWorkaround: 'auto' });
    expect(
      loadAteomConfig(new Settings({ ATEOM_RUNSC_PROC_SYS_NET_WORKAROUND: 'off' })).runsc
        .procSysNetWorkaround,
    ).toBe('off');
    expect(() => loadAteomConfig(new Settings({ ATEOM_RUNSC_PROC_SYS_NET_WORKAROUND: 'maybe' }))).toThrow(
      'ATEOM_RUNSC_PROC_SYS_NET_WORKAROUND: must be one of auto, on, off',
    );
  });
});
