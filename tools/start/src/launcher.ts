import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { parseWorkerPool } from '@substrate/api';
import { buildImage, COUNTER_DURABLE_DIR } from '@substrate/images';
import { ateapi } from '@substrate/proto';
import { endpointAddress, renderFile } from './manifests';
import { Component, httpOk, serviceCommand, tcpAccepts, unixAccepts, waitFor } from './processes';

export const REPO_ROOT = resolve(__dirname, '../../..');

/** The launcher's settings (environment), with defaults for a developer machine. */
export interface LauncherSettings {
  /** State: Redis dump, node directories, snapshots (`SUBSTRATE_HOME`, default `<repo>/.substrate`). */
  readonly home: string;
  readonly routerPort: number;
  readonly apiGrpcPort: number;
  readonly apiHttpPort: number;
  readonly atenetAdminPort: number;
  readonly ateletGrpcPort: number;
  readonly ateletHttpPort: number;
  /** `SUBSTRATE_REDIS_URL`: use this Redis instead of starting one. */
  readonly redisUrl: string | undefined;
  readonly redisPort: number;
  /** The WorkerPool YAML (`SUBSTRATE_WORKERPOOL`, default deploy/local/workerpool.yaml). */
  readonly workerPoolFile: string;
  /** Worker names are `<prefix><i>`, endpoints start at forwarded index `<indexBase>` (two launchers can coexist). */
  readonly workerPrefix: string;
  readonly workerIndexBase: number;
  /** `SUBSTRATE_IDLE_SUSPEND_MS` for the router (default 0: off). */
  readonly idleSuspendMs: number;
}

const int = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name}: expected a number, got ${JSON.stringify(raw)}`);
  return Number(raw);
};

export function loadSettings(env: NodeJS.ProcessEnv = process.env): LauncherSettings {
  return {
    home: resolve(env['SUBSTRATE_HOME'] ?? join(REPO_ROOT, '.substrate')),
    routerPort: int(env, 'SUBSTRATE_ROUTER_PORT', 8080),
    apiGrpcPort: int(env, 'SUBSTRATE_API_PORT', 8481),
    apiHttpPort: int(env, 'SUBSTRATE_API_HTTP_PORT', 8480),
    atenetAdminPort: int(env, 'SUBSTRATE_ROUTER_ADMIN_PORT', 8482),
    ateletGrpcPort: int(env, 'SUBSTRATE_ATELET_PORT', 8085),
    ateletHttpPort: int(env, 'SUBSTRATE_ATELET_HTTP_PORT', 8483),
    redisUrl: env['SUBSTRATE_REDIS_URL'] || undefined,
    redisPort: int(env, 'SUBSTRATE_REDIS_PORT', 6390),
    workerPoolFile: resolve(env['SUBSTRATE_WORKERPOOL'] ?? join(REPO_ROOT, 'deploy/local/workerpool.yaml')),
    workerPrefix: env['SUBSTRATE_WORKER_PREFIX'] ?? 'w',
    workerIndexBase: int(env, 'SUBSTRATE_WORKER_INDEX_BASE', 0),
    idleSuspendMs: int(env, 'SUBSTRATE_IDLE_SUSPEND_MS', 0),
  };
}

/** A tool the set-up installed (`.tools/tools.json`), else from the PATH. */
export function tool(name: string): string {
  const manifest = join(REPO_ROOT, '.tools/tools.json');
  if (existsSync(manifest)) {
    const path = (JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, { path?: string }>)[name]
      ?.path;
    if (path && existsSync(path)) return path;
  }
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${name} is not installed: run \`npm run setup\` first`);
  }
}

/** The whole local substrate, started and stopped as one. */
export class Launcher {
  private readonly components: Component[] = [];
  private stopping = false;
  readonly workers: { name: string; uid: string; endpoint: string; socket: string }[] = [];

  constructor(
    readonly settings: LauncherSettings,
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly onFailure: (message: string) => void = () => undefined,
  ) {}

  private log(message: string): void {
    this.out.write(`\u001b[1m[substrate]\u001b[0m ${message}\n`);
  }

  private start(
    name: string,
    command: string,
    args: readonly string[],
    env: Record<string, string>,
    ownGroup = false,
  ): Component {
    const component = Component.start(
      name,
      command,
      args,
      env,
      this.components.length,
      this.out,
      (who, code) => {
        if (!this.stopping) this.onFailure(`${who} exited unexpectedly (code ${String(code)})`);
      },
      ownGroup,
    );
    this.components.push(component);
    return component;
  }

  private service(name: string, entry: string, env: Record<string, string>): Component {
    const [command, args] = serviceCommand(REPO_ROOT, entry);
    return this.start(name, command, args, env);
  }

  /**
   * An ateom, under `tini -s` (a child subreaper): runsc leaves each sandbox process to be reaped by
   * whoever adopts it, and `runsc delete` waits until it is. Without a reaper of our own the machine's
   * init adopts it; on these machines that init reaps only every ~2 s, and every checkpoint would then
   * hold its worker that long. In a pod, tini is the container's init.
   */
  private ateom(name: string, env: Record<string, string>): Component {
    const [command, args] = serviceCommand(REPO_ROOT, 'apps/ateom/src/main.ts');
    return this.start(name, tool('tini'), ['-s', '-g', '--', command, ...args], env, true);
  }

  async up(): Promise<void> {
    const s = this.settings;
    if (process.getuid?.() !== 0) {
      throw new Error(
        'npm start needs root: it creates network namespaces and runs gVisor sandboxes (try sudo -E npm start)',
      );
    }
    for (const [what, port] of [
      ['router', s.routerPort],
      ['ateapi gRPC', s.apiGrpcPort],
      ['ateapi HTTP', s.apiHttpPort],
      ['atenet admin', s.atenetAdminPort],
      ['atelet', s.ateletGrpcPort],
      ['atelet HTTP', s.ateletHttpPort],
      ...(s.redisUrl ? [] : [['redis', s.redisPort] as const]),
    ] as const) {
      if (await tcpAccepts('127.0.0.1', port)) {
        throw new Error(
          `port ${port} (${what}) is already in use: stop what holds it, or choose another port (see docs/local.md)`,
        );
      }
    }
    const node = join(s.home, 'node');
    const manifests = join(s.home, 'manifests');
    const snapshots = join(s.home, 'snapshots');
    for (const dir of [node, manifests, snapshots]) mkdirSync(dir, { recursive: true });

    // Configuration: the WorkerPool as given, the counter template and the runtime pinned to what is installed.
    const poolYaml = readFileSync(s.workerPoolFile, 'utf8');
    const pool = parseWorkerPool(poolYaml, { file: s.workerPoolFile });
    const replicas = pool.spec.replicas;
    this.log(`building the counter image (cached after the first run)…`);
    const image = await buildImage('counter');
    const runsc = tool('runsc');
    const runscSha = createHash('sha256').update(readFileSync(runsc)).digest('hex');
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const values = {
      COUNTER_IMAGE: `oci:${image.layoutDir}@${image.manifestDigest}`,
      COUNTER_PORT: String(image.port),
      COUNTER_DURABLE_DIR,
      SNAPSHOTS: `file://${snapshots}`,
      RUNSC_URL: `file://${runsc}`,
      RUNSC_SHA256: runscSha,
      ARCH: arch,
    };
    writeFileSync(join(manifests, 'workerpool.yaml'), poolYaml);
    writeFileSync(
      join(manifests, 'counter.yaml'),
      renderFile(join(REPO_ROOT, 'deploy/local/counter.yaml'), values),
    );
    writeFileSync(
      join(manifests, 'sandboxconfig.yaml'),
      renderFile(join(REPO_ROOT, 'deploy/local/sandboxconfig.yaml'), values),
    );

    // Redis.
    let redisUrl = s.redisUrl;
    if (!redisUrl) {
      const redis = this.start(
        'redis',
        tool('redis-server'),
        [
          '--bind',
          '127.0.0.1',
          '--port',
          String(s.redisPort),
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          s.home,
        ],
        {},
      );
      await waitFor('redis', () => tcpAccepts('127.0.0.1', s.redisPort), redis);
      redisUrl = `redis://127.0.0.1:${s.redisPort}`;
    }

    // ateapi.
    const ateapiAddress = `127.0.0.1:${s.apiGrpcPort}`;
    const api = this.service('ateapi', 'apps/ateapi/src/main.ts', {
      ATEAPI_REDIS_URL: redisUrl,
      ATEAPI_MANIFESTS_DIR: manifests,
      ATEAPI_GRPC_LISTEN: ateapiAddress,
      ATEAPI_HTTP_LISTEN: `127.0.0.1:${s.apiHttpPort}`,
    });
    await waitFor('ateapi', () => httpOk(`http://127.0.0.1:${s.apiHttpPort}/healthz`), api);

    // The workers: one ateom each.
    const tools = {
      ATEOM_RUNSC_PATH: runsc,
      ATEOM_IP: tool('ip'),
      ATEOM_NFT: tool('nft'),
      ATEOM_SYSCTL: tool('sysctl'),
      ATEOM_UNSHARE: tool('unshare'),
      ATEOM_NSENTER: tool('nsenter'),
      ATEOM_TAR: tool('tar'),
    };
    const ateoms: Component[] = [];
    for (let i = 0; i < replicas; i++) {
      const name = `${s.workerPrefix}${i}`;
      const index = s.workerIndexBase + i;
      const socket = join(node, 'workers', name, 'ateom.sock');
      this.workers.push({
        name,
        uid: `${pool.metadata.name ?? 'local'}-${name}`,
        endpoint: `${endpointAddress(index)}:80`,
        socket,
      });
      ateoms.push(
        this.ateom(`ateom-${name}`, {
          ...tools,
          ATEOM_ROOT: node,
          ATEOM_WORKER: name,
          ATEOM_ENDPOINT_INDEX: String(index),
        }),
      );
    }
    await Promise.all(
      this.workers.map((w, i) => waitFor(`ateom ${w.name}`, () => unixAccepts(w.socket), ateoms[i], 120_000)),
    );

    // atelet: drives the ateoms and registers them with ateapi.
    const atelet = this.service('atelet', 'apps/atelet/src/main.ts', {
      ATELET_ROOT: node,
      ATELET_GRPC_LISTEN: `127.0.0.1:${s.ateletGrpcPort}`,
      ATELET_HTTP_LISTEN: `127.0.0.1:${s.ateletHttpPort}`,
      ATELET_ATEAPI_ADDRESS: ateapiAddress,
      ATELET_NODE_NAME: 'local',
      ATELET_WORKERS: JSON.stringify(
        this.workers.map((w) => ({
          name: w.name,
          uid: w.uid,
          pool: pool.metadata.name,
          namespace: pool.metadata.namespace ?? 'default',
          socket: w.socket,
          endpoint: w.endpoint,
        })),
      ),
    });
    await waitFor('atelet', () => tcpAccepts('127.0.0.1', s.ateletGrpcPort), atelet);

    // atenet: the router.
    const router = this.service('atenet', 'apps/atenet/src/main.ts', {
      ATENET_ROUTER_LISTEN: `127.0.0.1:${s.routerPort}`,
      ATENET_HTTP_LISTEN: `127.0.0.1:${s.atenetAdminPort}`,
      ATENET_ATEAPI_ADDRESS: ateapiAddress,
      ATENET_REDIS_URL: redisUrl,
      ATENET_IDLE_SUSPEND_MS: String(s.idleSuspendMs),
    });
    await waitFor('atenet', () => httpOk(`http://127.0.0.1:${s.atenetAdminPort}/healthz`), router);

    // The default atespace, and every worker registered.
    const control = new ateapi.ControlClient(ateapiAddress, credentials.createInsecure());
    try {
      await unary(control, 'createAtespace', { name: 'default' }).catch((error: ServiceError) => {
        if (error.code !== 6) throw error; // ALREADY_EXISTS
      });
      let ready = 0;
      await waitFor(
        `${replicas} workers to register`,
        async () => {
          ready = (await unary<ateapi.ListWorkersResponse>(control, 'listWorkers', {})).workers.length;
          return ready >= replicas;
        },
        atelet,
      );
      this.printStatus(
        replicas,
        `${pool.metadata.namespace ?? 'default'}/${pool.metadata.name ?? ''}`,
        values.SNAPSHOTS,
      );
    } finally {
      control.close();
    }
  }

  private printStatus(workers: number, pool: string, snapshots: string): void {
    const s = this.settings;
    const rows = [
      [
        'router',
        `http://127.0.0.1:${s.routerPort}`,
        'Host: <actor>.<atespace>.actors.resources.substrate.ate.dev',
      ],
      [
        'ateapi',
        `127.0.0.1:${s.apiGrpcPort} (gRPC)`,
        `http://127.0.0.1:${s.apiHttpPort}/openapi.json (REST)`,
      ],
      ['workers', `${workers}/${workers} ready`, `pool ${pool}`],
      ['templates', 'ate-demo-counter/counter', ''],
      ['snapshots', snapshots, ''],
    ];
    const width = Math.max(...rows.map((r) => (r[1] ?? '').length));
    const table = rows
      .map(([a = '', b = '', c = '']) => `  ${a.padEnd(10)} ${b.padEnd(width)}   ${c}`.trimEnd())
      .join('\n');
    this.out.write(
      `\nSubstrate is running.\n${table}\n\nTry:\n` +
        `  kubectl ate create actor my-counter-1 --template ate-demo-counter/counter -a default\n` +
        `  curl -H "Host: my-counter-1.default.actors.resources.substrate.ate.dev" localhost:${s.routerPort}/\n` +
        `Press Ctrl-C to stop.\nsubstrate: ready\n`,
    );
  }

  /** Stops everything it started (router first, Redis last); ateoms remove their namespaces on SIGTERM. */
  async down(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const byName = (prefix: string) => this.components.filter((c) => c.name.startsWith(prefix));
    for (const group of [
      byName('atenet'),
      byName('atelet'),
      byName('ateom-'),
      byName('ateapi'),
      byName('redis'),
    ]) {
      await Promise.all(group.map((c) => c.stop()));
    }
    const leftovers = this.leftoverNamespaces();
    if (leftovers.length > 0) {
      this.log(`removing network namespaces left behind: ${leftovers.join(', ')}`);
      for (const ns of leftovers) {
        try {
          execFileSync(tool('ip'), ['netns', 'delete', ns]);
        } catch {
          // reported below
        }
      }
    }
    const still = this.leftoverNamespaces();
    this.log(
      still.length === 0
        ? 'stopped; every process and network namespace is gone'
        : `stopped, but these namespaces remain: ${still.join(', ')}`,
    );
  }

  /** Network namespaces of our workers that still exist. */
  leftoverNamespaces(): string[] {
    let listed = '';
    try {
      listed = execFileSync(tool('ip'), ['netns', 'list'], { encoding: 'utf8' });
    } catch {
      return [];
    }
    const ours = new Set(this.workers.flatMap((w) => [`ate-${w.name}`, `atw-${w.name}`]));
    return listed
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => ours.has(name));
  }
}

function unary<Res>(
  client: ateapi.ControlClient,
  method: 'createAtespace' | 'listWorkers',
  request: object,
): Promise<Res> {
  const fn = (
    client[method] as unknown as (
      r: object,
      m: Metadata,
      o: { deadline: Date },
      cb: (e: ServiceError | null, r: Res) => void,
    ) => unknown
  ).bind(client);
  return new Promise((resolve, reject) => {
    fn(request, new Metadata(), { deadline: new Date(Date.now() + 10_000) }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}
