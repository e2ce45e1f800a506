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

  it('resets idle connections to workers after 1 s unless told otherwise, within 100 ms to 10 min', () => {
    expect(loadAtenetConfig(new Settings({})).workerIdleResetMs).toBe(1_000);
    expect(loadAtenetConfig(new Settings({ ATENET_WORKER_IDLE_RESET_MS: '250' })).workerIdleResetMs).toBe(
      250,
    );
    expect(() => loadAtenetConfig(new Settings({ ATENET_WORKER_IDLE_RESET_MS: '10' }))).toThrow(
      /ATENET_WORKER_IDLE_RESET_MS/,
    );
  });
});
