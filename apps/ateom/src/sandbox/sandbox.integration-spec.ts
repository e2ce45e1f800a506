import { appendFileSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describeWithComponents, requireTool, tempDir } from '@substrate/testing';
import { COUNTER_PORT, buildCounterRootfs } from '../../test/counter-rootfs';
import { writeActorIdentity, writeBundle } from './bundle';
import { NetnsManager, type SandboxNetwork } from './netns';
import { waitUntilReady } from './readyz';
import { RunscDriver, resolveProcSysNetWorkaround } from './runsc';

/**
 * GET with a deadline; the body as text. One connection per request, kept alive by the server and
 * closed by the client once the answer is read, so that no endpoint of the sandbox stays connected (this
 * runsc refuses to checkpoint one) or waits in TIME_WAIT.
 */
function get(host: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port: COUNTER_PORT, path, agent: false, timeout: 5_000, headers: { connection: 'keep-alive' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          req.destroy();
          if (res.statusCode === 200) resolve(Buffer.concat(chunks).toString('utf8'));
          else reject(new Error(`GET ${path}: HTTP ${String(res.statusCode)}`));
        });
      },
    );
    req.once('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    req.once('error', reject);
    req.end();
  });
}

async function counter(host: string): Promise<{ memory: number; file: number }> {
  return JSON.parse(await get(host, '/')) as { memory: number; file: number };
}

describeWithComponents(
  ['runsc', 'busybox', 'ip', 'unshare', 'nsenter'],
  'runsc sandbox: run, checkpoint, restore elsewhere',
  () => {
    // Worker names unique per test run; two workers stand for two machines.
    const suffix = (process.pid % 100_000).toString(36);
    const workerA = `ta${suffix}`;
    const workerB = `tb${suffix}`;
    const tmp = tempDir('ateom-sandbox');
    const netns = new NetnsManager({ ip: requireTool('ip') });
    const drivers: { driver: RunscDriver; id: string }[] = [];
    const figures: Record<string, number> = {};

    afterAll(async () => {
      const problems: unknown[] = [];
      for (const { driver, id } of drivers)
        await driver.delete(id).catch((error: unknown) => problems.push(error));
      for (const worker of [workerA, workerB])
        await netns.remove(worker).catch((error: unknown) => problems.push(error));
      tmp.remove();
      console.log(`sandbox figures: ${JSON.stringify(figures)}`);
      if (problems.length > 0) throw new AggregateError(problems, 'sandbox clean-up failed');
    });

    async function driverFor(network: SandboxNetwork, worker: string): Promise<RunscDriver> {
      const workaround = await resolveProcSysNetWorkaround(
        'auto',
        requireTool('nsenter'),
        network.namespacePath,
      );
      figures['proc_sys_net_workaround'] = workaround ? 1 : 0;
      return new RunscDriver({
        runsc: requireTool('runsc'),
        stateDir: join(tmp.path, worker, 'runsc-state'),
        procSysNetWorkaround: workaround,
        unshare: requireTool('unshare'),
      });
    }

    it('keeps memory and rootfs writes across checkpoint and restore into another namespace, with the new actor id', async () => {
      const rootfs = join(tmp.path, 'rootfs');
      const { args } = await buildCounterRootfs(rootfs, requireTool('busybox'));
      const logFile = join(tmp.path, 'counter.log');
      const bundle = (network: SandboxNetwork, actorIdFile: string) => ({
        args,
        env: ['PATH=/bin'],
        rootfs,
        readonlyRootfs: false,
        networkNamespacePath: network.namespacePath,
        actorIdFile,
      });

      // Worker A: cold boot.
      const netA = await netns.create(workerA);
      const host = netA.layout.sandboxAddress;
      const driverA = await driverFor(netA, workerA);
      const bundleA = join(tmp.path, workerA, 'bundle');
      await writeBundle(
        bundleA,
        bundle(netA, await writeActorIdentity(join(tmp.path, workerA, 'ate'), 'counter-1')),
      );
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

      // Worker B: a different namespace, the same inner address, another actor id.
      const netB = await netns.create(workerB);
      expect(netB.namespacePath).not.toBe(netA.namespacePath);
      const driverB = await driverFor(netB, workerB);
      const bundleB = join(tmp.path, workerB, 'bundle');
      await writeBundle(
        bundleB,
        bundle(netB, await writeActorIdentity(join(tmp.path, workerB, 'ate'), 'counter-2')),
      );
      drivers.push({ driver: driverB, id: 'counter-b' });
      appendFileSync(logFile, '--- restore ---\n');
      started = performance.now();
      await netns.prepare(netB);
      await driverB.restore('counter-b', bundleB, image.imageDir, logFile);
      await waitUntilReady({ host: netB.layout.sandboxAddress, port: COUNTER_PORT, timeoutMs: 30_000 });
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
  },
);
