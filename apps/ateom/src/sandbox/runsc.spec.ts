import { InvalidNameError } from './errors';
import { PROC_SYS_NET_WORKAROUND_SCRIPT, RunscDriver, openConnectionIn, validateContainerId } from './runsc';

describe('runsc driver', () => {
  it('passes the flags that work with runsc 0.0~20240729 on every call', () => {
    const driver = new RunscDriver({
      runsc: '/bin/runsc',
      stateDir: '/var/lib/ateom/w1/runsc',
      procSysNetWorkaround: false,
    });
    expect(driver.globalFlags()).toEqual([
      '--root=/var/lib/ateom/w1/runsc',
      '--platform=systrap',
      '--network=sandbox',
      '--overlay2=root:memory',
    ]);
  });

  it('needs unshare for the /proc/sys/net workaround', () => {
    expect(() => new RunscDriver({ runsc: 'runsc', stateDir: '/s', procSysNetWorkaround: true })).toThrow(
      'unshare',
    );
  });

  it('hides /proc/sys/net in a private mount namespace, then execs runsc', () => {
    expect(PROC_SYS_NET_WORKAROUND_SCRIPT).toBe(
      'mount --make-rprivate / && mount -t tmpfs none /proc/sys/net && exec "$@"',
    );
  });

  it.each(['', '-x', 'a b', 'a/b', '../a', 'x'.repeat(65)])('refuses container id %j', (id) => {
    expect(() => validateContainerId(id)).toThrow(InvalidNameError);
  });

  it('refuses a bad container id before running anything', async () => {
    const driver = new RunscDriver({
      runsc: '/nonexistent/runsc',
      stateDir: '/tmp/x',
      procSysNetWorkaround: false,
    });
    await expect(driver.state('../etc')).rejects.toThrow(InvalidNameError);
  });

  it("recognises runsc's refusal to save a connected endpoint and names the connection", () => {
    const stderr =
      'checkpoint failed: checkpointing container "actor": encoding error: save rejected due to unsupported ' +
      'networking state: endpoint cannot be saved in connected state: local 169.254.17.2:80, remote 169.254.240.201:39500:\ngoroutine 91';
    expect(openConnectionIn(stderr)).toBe('local 169.254.17.2:80, remote 169.254.240.201:39500');
    expect(openConnectionIn('checkpoint failed: no space left on device')).toBeUndefined();
  });
});
