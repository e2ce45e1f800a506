import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithComponents, requireTool, tempDir } from '@substrate/testing';
import { counter } from '../../test/counter-client';
import { COUNTER_PORT, buildCounterRootfs } from '../../test/counter-rootfs';
import { ConnectionsNotDrainedError } from './errors';
import { NetnsManager } from './netns';
import { WorkerSandbox, singleContainer, type SandboxWorkload } from './worker-sandbox';

/** A client that keeps one HTTP/1.1 keep-alive connection to the counter open, as a router does. */
class KeepAliveClient {
  private constructor(private readonly socket: Socket) {}

  static open(host: string): Promise<KeepAliveClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port: COUNTER_PORT });
      socket.once('connect', () => resolve(new KeepAliveClient(socket)));
      socket.once('error', reject);
    });
  }

  /** The client's end as the sandbox sees it (the port survives the DNAT). */
  get localPort(): number {
    const port = this.socket.localPort;
    if (port === undefined) throw new Error('not connected');
    return port;
  }

  /** GET / on the open connection; the answer's `memory` counter. */
  get(): Promise<number> {
    return new Promise((resolve, reject) => {
      let received = '';
      const onData = (chunk: Buffer) => {
        received += chunk.toString('utf8');
        const body = /\r\n\r\n(\{.*\})/s.exec(received)?.[1];
        if (body === undefined) return;
        this.socket.off('data', onData);
        resolve((JSON.parse(body) as { memory: number }).memory);
      };
      this.socket.on('data', onData);
      this.socket.once('error', reject);
      this.socket.write(`GET / HTTP/1.1\r\nHost: counter\r\nConnection: keep-alive\r\n\r\n`);
    });
  }

  /** Resets the connection (RST), as the router does when the actor stops running. */
  reset(): void {
    this.socket.resetAndDestroy();
  }
}

describeWithComponents(
  ['runsc', 'busybox', 'ip', 'unshare', 'nsenter', 'nft', 'sysctl'],
  'checkpoint waits for the sandbox connections to close (conntrack drain)',
  () => {
    const suffix = (process.pid % 100_000).toString(36);
    const endpointIndex = 1_500 + (process.pid % 500);
    const netns = new NetnsManager({
      ip: requireTool('ip'),
      nft: requireTool('nft'),
      sysctl: requireTool('sysctl'),
    });
    let tmp: { path: string; remove: () => void };
    let workload: SandboxWorkload;
    let sandbox: WorkerSandbox | undefined;
    const clients: KeepAliveClient[] = [];

    beforeAll(async () => {
      tmp = tempDir('ateom-drain');
      const rootfs = join(tmp.path, 'rootfs');
      const { args } = await buildCounterRootfs(rootfs, requireTool('busybox'));
      workload = singleContainer({
        args,
        env: ['PATH=/bin'],
        rootfs,
        readonlyRootfs: false,
        readiness: { port: COUNTER_PORT },
      });
      sandbox = await WorkerSandbox.open({
        worker: `dr${suffix}`,
        workDir: join(tmp.path, 'worker'),
        netns,
        endpointIndex,
        runsc: requireTool('runsc'),
        unshare: requireTool('unshare'),
        nsenter: requireTool('nsenter'),
        procSysNetWorkaround: 'auto',
        checkpointDrainMs: 1_000,
      });
    });

    afterAll(async () => {
      for (const client of clients) client.reset();
      await sandbox?.close();
      tmp.remove();
    });

    function worker(): WorkerSandbox {
      if (sandbox === undefined) throw new Error('worker not open');
      return sandbox;
    }

    async function keepAlive(): Promise<KeepAliveClient> {
      const client = await KeepAliveClient.open(worker().address);
      clients.push(client);
      return client;
    }

    it('refuses while a client holds a keep-alive connection, without losing the sandbox; succeeds once it is reset', async () => {
      const sandbox = worker();
      await sandbox.run('drain-1', workload);
      const client = await keepAlive();
      expect(await client.get()).toBe(1);

      const refused = sandbox.checkpoint(join(tmp.path, 'refused'));
      await expect(refused).rejects.toThrow(ConnectionsNotDrainedError);
      const error = (await refused.catch((caught: unknown) => caught)) as ConnectionsNotDrainedError;
      const hostEnd = sandbox.network.forward?.hostAddress;
      expect(error).toMatchObject({ code: 'CONNECTIONS_OPEN' });
      expect(error.message).toBe(
        `cannot checkpoint actor: 1 TCP connection of the sandbox still open after ${Math.round(error.waitedMs)} ms ` +
          `(remote ${hostEnd}:${client.localPort} to 169.254.17.2:${COUNTER_PORT} ESTABLISHED); ` +
          'clients must close (reset) their connections before a checkpoint; the sandbox keeps running',
      );
      expect(error.waitedMs).toBeGreaterThanOrEqual(1_000);

      // runsc was not called: the sandbox still runs and answers, on the held connection and a new one.
      expect(sandbox.running).toBe(true);
      expect(await client.get()).toBe(2);
      expect(await counter(sandbox.address)).toEqual({ memory: 3, file: 3 });

      client.reset();
      const image = await sandbox.checkpoint(join(tmp.path, 'after-reset'));
      expect(image.drain.outcome).toBe('drained');
      expect(image.files).toContain('checkpoint.img');

      // The snapshot is whole: restored, the counter goes on.
      await sandbox.restore('drain-1', workload, image.imageDir);
      expect(await counter(sandbox.address)).toEqual({ memory: 4, file: 4 });
    });

    it('waits for a connection the client resets while the checkpoint has begun', async () => {
      const sandbox = worker();
      const client = await keepAlive();
      expect(await client.get()).toBe(5);

      const checkpoint = sandbox.checkpoint(join(tmp.path, 'waited'));
      await sleep(300);
      client.reset();
      const image = await checkpoint;
      expect(image.drain).toMatchObject({ outcome: 'drained' });
      expect(image.drain.polls).toBeGreaterThan(1);
      expect(image.drain.drainMs).toBeGreaterThanOrEqual(250);
      expect(sandbox.running).toBe(false);

      await sandbox.restore('drain-1', workload, image.imageDir);
      expect(await counter(sandbox.address)).toEqual({ memory: 6, file: 6 });
    });
  },
);
