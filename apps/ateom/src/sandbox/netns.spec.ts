import { InvalidNameError } from './errors';
import { NetnsManager, networkNames, validateWorkerName } from './netns';

describe('worker network names', () => {
  it('derives the namespace and link names, all within the kernel’s 15-character limit', () => {
    const names = networkNames('worker-012');
    expect(names).toEqual({
      namespace: 'ate-worker-012',
      workerLink: 'ateh-worker-012',
      peerLink: 'atep-worker-012',
      workerNamespace: 'atw-worker-012',
      hostLink: 'atew-worker-012',
    });
    expect(Math.max(...Object.values(names).map((name) => name.length))).toBeLessThanOrEqual(15);
  });

  it.each(['', '-a', 'A', 'a b', 'a/b', '../x', 'a;rm', 'abcdefghijk', 'é'])('refuses %j', (name) => {
    expect(() => validateWorkerName(name)).toThrow(InvalidNameError);
  });

  it('describes where the bundle finds the namespace, without touching the system', () => {
    const network = new NetnsManager({ ip: '/nonexistent/ip' }).describe('w1');
    expect(network).toMatchObject({
      namespace: 'ate-w1',
      namespacePath: '/run/netns/ate-w1',
      workerLink: 'ateh-w1',
      sandboxLink: 'eth0',
      layout: { workerAddress: '169.254.17.1', sandboxAddress: '169.254.17.2', prefixLength: 30 },
    });
  });

  it('refuses a layout outside the link-local range at construction', () => {
    expect(
      () =>
        new NetnsManager({
          ip: 'ip',
          layout: { workerAddress: '10.0.0.1', sandboxAddress: '10.0.0.2', prefixLength: 30 },
        }),
    ).toThrow('must be in 169.254.0.0/16');
  });
});
