// The session a new user runs (README "Try it"), end to end with real processes, real gVisor sandboxes and
// real Redis: `npm start`, `kubectl ate create actor`, a request through the router (count 1), `kubectl ate
// suspend`, the same request again (count 2, woken from the snapshot), `kubectl ate get actors`, Ctrl-C
// — after which every process and network namespace is gone. Ports, state directory and worker names are
// moved off the defaults so the test never meets a developer's own `npm start`.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeWithComponents, freePorts, REPO_ROOT, TOOLS_DIR, tempDir } from '@substrate/testing';

const run = promisify(execFile);
const HOST = 'my-counter-1.default.actors.resources.substrate.ate.dev';

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/', headers: { host }, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describeWithComponents(
  ['runsc', 'redis-server', 'ip', 'nft', 'kubectl'],
  'the first walk: npm start, kubectl ate, curl',
  () => {
    const home = tempDir('walk');
    let launcher: ChildProcess | undefined;
    let log = '';
    let exited: Promise<number | null> = Promise.resolve(null);
    let routerPort = 0;
    let env: NodeJS.ProcessEnv = {};

    afterAll(async () => {
      if (launcher?.pid !== undefined && !log.includes('substrate] stopped')) {
        try {
          process.kill(-launcher.pid, 'SIGINT');
        } catch {
          // the group is gone already
        }
        await exited;
      }
      home.remove();
    });

    const kubectl = async (...args: string[]) =>
      (await run('kubectl', ['ate', ...args], { env, cwd: REPO_ROOT, timeout: 90_000 })).stdout;

    it('walks an actor through create, request, suspend, wake from its snapshot; Ctrl-C cleans up', async () => {
      const ports = await freePorts(7);
      const [router, api, apiHttp, admin, atelet, ateletHttp, redis] = ports.map(String);
      routerPort = Number(router);
      env = {
        ...process.env,
        PATH: `${join(TOOLS_DIR, 'bin')}:${process.env['PATH'] ?? ''}`,
        SUBSTRATE_HOME: home.path,
        SUBSTRATE_ROUTER_PORT: router,
        SUBSTRATE_API_PORT: api,
        SUBSTRATE_API_HTTP_PORT: apiHttp,
        SUBSTRATE_ROUTER_ADMIN_PORT: admin,
        SUBSTRATE_ATELET_PORT: atelet,
        SUBSTRATE_ATELET_HTTP_PORT: ateletHttp,
        SUBSTRATE_REDIS_PORT: redis,
        SUBSTRATE_WORKER_PREFIX: 'walk',
        SUBSTRATE_WORKER_INDEX_BASE: '200',
        ATE_ENDPOINT: `127.0.0.1:${api}`,
      };
      // `npm start`, exactly as package.json runs it.
      // Its own process group, so Ctrl-C can be sent the way a terminal does: to the whole group.
      launcher = spawn('npm', ['start'], {
        cwd: REPO_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const child = launcher;
      exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
      const keep = (chunk: Buffer) => (log = (log + chunk.toString('utf8')).slice(-200_000));
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      for (let i = 0; i < 600 && !log.includes('substrate: ready'); i++) {
        if (child.exitCode !== null) throw new Error(`npm start exited:\n${log.slice(-5_000)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(log).toContain('substrate: ready');
      expect(log).toMatch(/workers\s+8\/8 ready/);
      const created = await kubectl(
        'create',
        'actor',
        'my-counter-1',
        '--template',
        'ate-demo-counter/counter',
        '-a',
        'default',
      );
      expect(created).toMatch(
        /default\s+ate-demo-counter\s+counter\s+my-counter-1\s+STATUS_SUSPENDED\s+<none>\s+<none>\s+1/,
      );
      const first = await get(routerPort, HOST);
      expect(first.status).toBe(200);
      expect(first.body).toMatch(/preserved memory count: 1 \| preserved file counter: 1/);
      const suspended = await kubectl('suspend', 'actor', 'my-counter-1', '-a', 'default');
      expect(suspended).toMatch(/my-counter-1\s+STATUS_SUSPENDED/);
      const second = await get(routerPort, HOST);
      expect(second.status).toBe(200);
      expect(second.body).toMatch(/preserved memory count: 2 \| preserved file counter: 2/);
      const actors = await kubectl('get', 'actors', '-a', 'default');
      expect(actors).toMatch(
        /^ATESPACE\s+TEMPLATE NS\s+TEMPLATE\s+ID\s+STATUS\s+ATEOM POD\s+ATEOM IP\s+VERSION\n/,
      );
      expect(actors).toMatch(/my-counter-1\s+STATUS_RUNNING\s+default\/walk\d\s+169\.254\.\d+\.\d+\s+\d+/);

      // Ctrl-C: the terminal signals the whole process group; the launcher stops everything it started
      // and removes the namespaces.
      process.kill(-(child.pid ?? 0), 'SIGINT');
      // npm itself dies of the SIGINT at once; the launcher below it reports when everything is down.
      for (let i = 0; i < 120 && !log.includes('stopped;'); i++)
        await new Promise((resolve) => setTimeout(resolve, 500));
      expect(log).toContain('stopped; every process and network namespace is gone');
      const { stdout } = await run(join(TOOLS_DIR, 'bin/ip'), ['netns', 'list']);
      expect(stdout.split('\n').filter((line) => /^at[ew]-walk\d/.test(line))).toEqual([]);
    });
  },
);
