import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWithComponents, requireTool, tempDir } from '@substrate/testing';
import { counter, get } from '../../test/counter-client';
import { COUNTER_PORT, buildCounterRootfs } from '../../test/counter-rootfs';
import { writeActorIdentity, writeBundle } from './bundle';
import { AddressInUseError } from './errors';
import { NetnsManager, type SandboxNetwork } from './netns';
import { waitUntilReady } from './readyz';
import { RunscDriver, resolveProcSysNetWorkaround } from './runsc';

describeWithComponents(
  ['runsc', 'busybox', 'ip', 'unshare', 'nsenter'],
  'runsc sandbox: run, checkpoint, restore elsewhere',
  () => {
    // Worker names unique per test run; workers A and B stand for two machines, C for a second worker
    // on the same machine as A.
    const suffix = (process.pid % 100_000).toString(36);
    const [workerA, workerB, workerC] = ['ta', 'tb', 'tc'].map((prefix) => `${prefix}${suffix}`) as [
      string,
      string,
      string,
    ];
    const netns = new NetnsManager({ ip: requireTool('ip') });
    const drivers: { driver: RunscDriver; id: string }[] = [];
    const figures: Record<string, number> = {};
    let tmp: { path: string; remove: () => void };
    let rootfs: string;
    let args: string[];

    beforeAll(async () => {
      tmp = tempDir('ateom-sandbox');
      rootfs = join(tmp.path, 'rootfs');
      ({ args } = await buildCounterRootfs(rootfs, requireTool('busybox')));
    });

    afterAll(async () => {
      const problems: unknown[] = [];
      for (const { driver, id } of drivers)
        await driver.delete(id).catch((error: unknown) => problems.push(error));
      for (const worker of [workerA, workerB, workerC])
        await netns.remove(worker).catch((error: unknown) => problems.push(error));
      tmp.remove();
      console.log(`sandbox figures: ${JSON.stringify(figures)}`);
      if (problems.length > 0) throw new AggregateError(problems, 'sandbox clean-up failed');
    });

    function driverFor(worker: string, procSysNetWorkaround: boolean): RunscDriver {
      return new RunscDriver({
        runsc: requireTool('runsc'),
        stateDir: join(tmp.path, worker, 'runsc-state'),
        procSysNetWorkaround,
        unshare: requireTool('unshare'),
      });
    }

    async function autoDriverFor(network: SandboxNetwork): Promise<RunscDriver> {
      const nsenter = requireTool('nsenter');
      const workaround = await resolveProcSysNetWorkaround('auto', nsenter, network.namespacePath);
      figures['proc_sys_net_workaround'] = workaround ? 1 : 0;
      return driverFor(network.worker, workaround);
    }

    /** Writes the bundle of the counter for one worker and actor; returns the bundle directory. */
    async function counterBundle(network: SandboxNetwork, actorId: string): Promise<string> {
      const dir = join(tmp.path, network.worker, 'bundle');
      const actorIdFile = await writeActorIdentity(join(tmp.path, network.worker, 'ate'), actorId);
      await writeBundle(dir, {
        args,
        env: ['PATH=/bin'],
        rootfs,
        readonlyRootfs: false,
        networkNamespacePath: network.namespacePath,
        actorIdFile,
      });
      return dir;
    }

    it('keeps memory and rootfs writes across checkpoint and restore into another namespace, with the new actor id', async () => {
      const logFile = join(tmp.path, 'counter.log');

      // Worker A: cold boot.
      const netA = await netns.create(workerA);
      const host = netA.layout.sandboxAddress;
      const driverA = await autoDriverFor(netA);
      const bundleA = await counterBundle(netA, 'counter-1');
      drivers.push({ driver: driverA, id: 'counter' });
      let started = performance.now();
      await netns.prepare(netA);
      await driverA.run('counter', bundleA, logFile);
      const coldReady = await waitUntilReady({ host, port: COUNTER_PORT, timeoutMs: 30_000 });
      expect(await counter(host)).toEqual({ memory: 1, file: 1 });
      figures['cold_boot_first_answer_ms'] = Math.round(performance.now() - started);
      figures['cold_boot_readyz_attempts'] = coldReady.attempts;
      expect(await counter(host)).toEqual({ memory: 2, file: 2 });
      expect(await get(host, '/id')).toBe('counter-1');

      // Checkpoint, then free worker A entirely.
      const image = await driverA.checkpoint('counter', join(tmp.path, 'image'));
      figures['checkpoint_ms'] = Math.round(image.durationMs);
      figures['checkpoint_bytes'] = image.bytes;
      expect(image.files).toEqual(expect.arrayContaining(['checkpoint.img', 'pages.img', 'pages_meta.img']));
      await driverA.delete('counter');
      expect(await driverA.state('counter')).toBeUndefined();
      await netns.remove(workerA);
      expect(netns.exists(workerA)).toBe(false);

      // Worker B: a different namespace and state root, the same inner address, another actor id.
      const netB = await netns.create(workerB);
      expect(netB.namespacePath).not.toBe(netA.namespacePath);
      expect(netB.layout.sandboxAddress).toBe(host);
      const driverB = await autoDriverFor(netB);
      const bundleB = await counterBundle(netB, 'counter-2');
      drivers.push({ driver: driverB, id: 'counter-b' });
      appendFileSync(logFile, '--- restore ---\n');
      started = performance.now();
      await netns.prepare(netB);
      await driverB.restore('counter-b', bundleB, image.imageDir, logFile);
      await waitUntilReady({ host, port: COUNTER_PORT, timeoutMs: 30_000 });
      expect(await counter(host)).toEqual({ memory: 3, file: 3 });
      figures['restore_first_answer_ms'] = Math.round(performance.now() - started);
      expect(await get(host, '/id')).toBe('counter-2');
      expect((await driverB.state('counter-b'))?.status).toBe('running');

      // The counter's own output was captured to the log file.
      expect(readFileSync(logFile, 'utf8')).toContain('counter listening on 8080');

      await driverB.delete('counter-b');
      await netns.remove(workerB);
      expect(netns.exists(workerB)).toBe(false);
    });

    it('refuses a second sandbox network in the same host namespace (the worker address is taken)', async () => {
      await netns.create(workerA);
      try {
        await expect(netns.create(workerC)).rejects.toThrow(AddressInUseError);
        expect(netns.exists(workerC)).toBe(false);
      } finally {
        await netns.remove(workerA);
      }
    });

    it('detects the /proc/sys/net workaround the way runsc behaves without it', async () => {
      const network = await netns.create(workerA);
      const nsenter = requireTool('nsenter');
      const needed = await resolveProcSysNetWorkaround('auto', nsenter, network.namespacePath);
      const driver = driverFor(workerA, false);
      drivers.push({ driver, id: 'bare' });
      try {
        const run = driver.run('bare', await counterBundle(network, 'bare-1'), join(tmp.path, 'bare.log'));
        if (needed) await expect(run).rejects.toThrow(/root network namespace/);
        else await expect(run).resolves.toBeUndefined();
      } finally {
        await driver.delete('bare');
        await netns.remove(workerA);
      }
    });

    it('fails with NOT_READY when the sandbox never answers its probe, and cleans up', async () => {
      const network = await netns.create(workerA);
      const driver = await autoDriverFor(network);
      drivers.push({ driver, id: 'silent' });
      try {
        await netns.prepare(network);
        await driver.run('silent', await counterBundle(network, 'silent-1'), join(tmp.path, 'silent.log'));
        const probe = { host: network.layout.sandboxAddress, port: COUNTER_PORT + 1, timeoutMs: 1_500 };
        await expect(waitUntilReady(probe)).rejects.toMatchObject({ code: 'NOT_READY' });
        // The server itself was up on its real port; kill stops it.
        expect(await get(network.layout.sandboxAddress, '/readyz')).toBe('ok');
        await driver.kill('silent', 'SIGKILL');
        await expect(get(network.layout.sandboxAddress, '/readyz')).rejects.toThrow();
      } finally {
        await driver.delete('silent');
        await netns.remove(workerA);
      }
      expect(await driver.state('silent')).toBeUndefined();
    });
  },
);
