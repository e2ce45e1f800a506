import { Settings } from '@substrate/service';
import { loadAteomConfig } from './config';

describe('ateom configuration', () => {
  it('keeps the socket, runsc state and actor directories under the node root by default', () => {
    const config = loadAteomConfig(new Settings({ ATEOM_WORKER: 'w3', ATEOM_ROOT: '/srv/ate' }));
    expect(config).toMatchObject({
      worker: 'w3',
      actorsDir: '/srv/ate/actors',
      workDir: '/srv/ate/workers/w3',
      socket: '/srv/ate/workers/w3/ateom.sock',
      logs: { dir: '/srv/ate/logs', maxBytes: 10 * 1024 * 1024, maxFiles: 3 },
      readyTimeoutMs: 30_000,
      checkpointDrainMs: 2_000,
    });
    expect(config.endpointIndex).toBeUndefined();
    expect(loadAteomConfig(new Settings({ ATEOM_ENDPOINT_INDEX: '7' })).endpointIndex).toBe(7);
  });

  it('names the setting when it is malformed', () => {
    expect(() => loadAteomConfig(new Settings({ ATEOM_WORKER: 'Bad_Name' }))).toThrow(
      'invalid configuration: ATEOM_WORKER: expected 1-10 characters of [a-z0-9-], got "Bad_Name"',
    );
    expect(() => loadAteomConfig(new Settings({ ATEOM_ENDPOINT_INDEX: '9000' }))).toThrow(
      'ATEOM_ENDPOINT_INDEX: must be between 0 and 8191, got 9000',
    );
    expect(loadAteomConfig(new Settings({ ATEOM_CHECKPOINT_DRAIN_MS: '0' })).checkpointDrainMs).toBe(0);
    expect(() => loadAteomConfig(new Settings({ ATEOM_CHECKPOINT_DRAIN_MS: '-5' }))).toThrow(
      'ATEOM_CHECKPOINT_DRAIN_MS',
    );
    expect(() => loadAteomConfig(new Settings({ ATEOM_CHECKPOINT_DRAIN_MS: 'soon' }))).toThrow(
      'ATEOM_CHECKPOINT_DRAIN_MS',
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
