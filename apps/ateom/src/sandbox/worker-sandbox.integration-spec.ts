import { join } from 'node:path';
import { describeWithComponents, requireTool, tempDir } from '@substrate/testing';
import { counter, get } from '../../test/counter-client';
import { COUNTER_PORT, buildCounterRootfs } from '../../test/counter-rootfs';
import { InvalidStateError, WorkerBusyError } from './errors';
import { NetnsManager } from './netns';
import {
  WorkerSandbox,
  singleContainer,
  type ActorProcess,
  type SandboxWorkload,
  type WorkerSandboxOptions,
} from './worker-sandbox';

describeWithComponents(
  ['runsc', 'busybox', 'ip', 'unshare', 'nsenter', 'nft', 'sysctl'],
  'WorkerSandbox: one actor per worker, one operation at a time',
  () => {
    const suffix = (process.pid % 100_000).toString(36);
    const netns = new NetnsManager({
      ip: requireTool('ip'),
      nft: requireTool('nft'),
      sysctl: requireTool('sysctl'),
    });
    const opened: WorkerSandbox[] = [];
    let tmp: { path: string; remove: () => void };
    let actor: ActorProcess;
    let single: SandboxWorkload;

    beforeAll(async () => {
      tmp = tempDir('ateom-worker');
      const rootfs = join(tmp.path, 'rootfs');
      const { args } = await buildCounterRootfs(rootfs, requireTool('busybox'));
      actor = { args, env: ['PATH=/bin'], rootfs, readonlyRootfs: false, readiness: { port: COUNTER_PORT } };
      single = singleContainer(actor);
    });

    afterAll(async () => {
      const problems: unknown[] = [];
      for (const sandbox of opened) await sandbox.close().catch((error: unknown) => problems.push(error));
      tmp.remove();
      if (problems.length > 0) throw new AggregateError(problems, 'worker clean-up failed');
    });

    async function open(worker: string, endpointIndex?: number): Promise<WorkerSandbox> {
      const options: WorkerSandboxOptions = {
        worker,
        workDir: join(tmp.path, worker),
        netns,
        runsc: requireTool('runsc'),
        unshare: requireTool('unshare'),
        nsenter: requireTool('nsenter'),
        procSysNetWorkaround: 'auto',
        endpointIndex,
      };
      const sandbox = await WorkerSandbox.open(options);
      opened.push(sandbox);
      return sandbox;
    }

    it('runs, refuses overlapping operations, checkpoints, and restores on another worker', async () => {
      const first = await open(`wa${suffix}`);
      const running = first.run('counter-1', single);
      await expect(first.checkpoint(join(tmp.path, 'early'))).rejects.toThrow(WorkerBusyError);
      await expect(first.run('counter-1', single)).rejects.toMatchObject({ code: 'BUSY' });
      const started = await running;
      expect(started.readiness?.attempts).toBeGreaterThanOrEqual(1);
      await expect(first.run('counter-1', single)).rejects.toThrow(InvalidStateError);

      expect(await counter(first.address)).toEqual({ memory: 1, file: 1 });
      expect(await counter(first.address)).toEqual({ memory: 2, file: 2 });
      const image = await first.checkpoint(join(tmp.path, 'image'));
      await expect(first.checkpoint(join(tmp.path, 'again'))).rejects.toMatchObject({
        code: 'INVALID_STATE',
      });
      await first.close();
      expect(netns.exists(`wa${suffix}`)).toBe(false);

      const second = await open(`wb${suffix}`);
      const restored = await second.restore('counter-2', single, image.imageDir);
      expect(restored.readiness).toBeDefined();
      expect(await counter(second.address)).toEqual({ memory: 3, file: 3 });
      expect(await get(second.address, '/id')).toBe('counter-2');
      await second.close();
      expect(netns.exists(`wb${suffix}`)).toBe(false);
    });

    it('leaves the worker free when the actor never becomes ready', async () => {
      const sandbox = await open(`wc${suffix}`);
      const silent = { ...actor, readiness: { port: COUNTER_PORT + 1, timeoutMs: 1_000 } };
      await expect(sandbox.run('silent-1', singleContainer(silent))).rejects.toMatchObject({
        code: 'NOT_READY',
      });
      // Free again: the same worker boots the actor with the right probe.
      await sandbox.run('counter-3', single);
      expect(await get(sandbox.address, '/id')).toBe('counter-3');
      await sandbox.close();
    });

    it('restores on a second worker of the same host, each reached through its own forwarded endpoint', async () => {
      const first = await open(`wd${suffix}`, 0);
      const second = await open(`we${suffix}`, 1);
      expect([first.address, second.address]).toEqual(['169.254.128.2', '169.254.128.6']);
      expect(first.network.layout.sandboxAddress).toBe(second.network.layout.sandboxAddress);

      await first.run('counter-4', single);
      expect(await counter(first.address)).toEqual({ memory: 1, file: 1 });
      const image = await first.checkpoint(join(tmp.path, 'image-forwarded'));
      await second.restore('counter-5', single, image.imageDir);
      expect(await counter(second.address)).toEqual({ memory: 2, file: 2 });
      expect(await get(second.address, '/id')).toBe('counter-5');

      // Worker A boots a fresh actor while B still runs the restored one; each endpoint reaches its own.
      await first.run('counter-6', single);
      expect(await counter(first.address)).toEqual({ memory: 1, file: 1 });
      expect(await get(first.address, '/id')).toBe('counter-6');
      expect(await counter(second.address)).toEqual({ memory: 3, file: 3 });

      await first.close();
      await second.close();
      expect(netns.exists(`wd${suffix}`) || netns.exists(`we${suffix}`)).toBe(false);
    });
  },
);
