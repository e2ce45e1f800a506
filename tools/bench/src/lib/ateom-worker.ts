// One ateom worker process running the counter actor, for benchmarks that need a real gVisor sandbox:
// the counter image built and unpacked (umoci), the actor's bundle written as atelet would, ateom started as
// its own process with a forwarded worker endpoint, and a promise client of its workload calls. Used by the
// sandbox benchmark (restore against bare runsc) and the snapshot benchmark (a real checkpoint image).
//
// Use: `const worker = await CounterWorker.start({ dir, name, endpointIndex, log })`, then
// `worker.client.run()` / `.checkpoint(scope)` / `.restore()`, the paths under `worker.paths`, and
// `worker.stop()` at the end.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { credentials } from '@grpc/grpc-js';

import { buildImage, COUNTER_DURABLE_DIR, COUNTER_PORT } from '@substrate/images';
import { ateom } from '@substrate/proto';
import { ateomToolsEnv, contentAddressedRunsc, requireTool, unixSocketAccepts } from '@substrate/testing';

import { unaryCall } from './grpc';

const REPO = resolve(__dirname, '../../../..');
const CALL_TIMEOUT_MS = 120_000;
const FULL = ateom.SnapshotScope.SNAPSHOT_SCOPE_FULL;

export const ACTOR = {
  actorAtespace: 'bench',
  actorTemplateNamespace: 'bench',
  actorTemplateName: 'counter',
  actorId: 'counter-1',
} as const;
/** The actor's directory on the node, as atelet and ateom name it (`<atespace>:<ns>:<template>:<id>`). */
export const ACTOR_KEY = 'bench:bench:counter:counter-1';
export const CONTAINER = 'counter';

/** ateom's structured log records the benchmark reads (one JSON object per line on its stdout). */
export interface StartedRecord {
  readonly totalMs?: number;
  readonly setupMs?: number;
  readonly preparedMs?: number;
  readonly runscMs?: number;
  readonly readyMs?: number;
  readonly readyAttempts?: number;
}

/** ateom as its own process (`node -r tools/scripts/swc-register.js apps/ateom/src/main.ts`). */
export class AteomProcess {
  private tail = '';
  private pending = '';
  readonly restored: StartedRecord[] = [];
  /** When each `Actor restored` line arrived here (`performance.now()`). */
  readonly restoredAt: number[] = [];
  readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => this.take(chunk));
    child.stderr?.on('data', (chunk: Buffer) => (this.tail = (this.tail + chunk.toString()).slice(-16_384)));
    this.exited = new Promise((resolveExit) => child.once('exit', () => resolveExit()));
  }

  static async start(env: Record<string, string>, socket: string): Promise<AteomProcess> {
    const child = spawn(
      process.execPath,
      ['-r', join(REPO, 'tools/scripts/swc-register.js'), join(REPO, 'apps/ateom/src/main.ts')],
      { cwd: join(REPO, 'apps/ateom'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const ateomProcess = new AteomProcess(child);
    const deadline = Date.now() + 60_000;
    while (!(await unixSocketAccepts(socket))) {
      if (!ateomProcess.running || Date.now() > deadline) {
        await ateomProcess.stop();
        throw new Error(`ateom did not serve on ${socket}:\n${ateomProcess.log}`);
      }
      await sleep(50);
    }
    return ateomProcess;
  }

  /** Resident set size (MB) of the ateom process, from /proc. */
  rssMb(): number {
    const status = readFileSync(`/proc/${this.child.pid ?? 0}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1e3;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get log(): string {
    return this.tail;
  }

  /** SIGTERM (ateom deletes its sandbox and network), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }

  private take(chunk: Buffer): void {
    const arrived = performance.now();
    const text = chunk.toString('utf8');
    this.tail = (this.tail + text).slice(-16_384);
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('Actor restored')) continue;
      try {
        const record = JSON.parse(line) as { message?: unknown } & StartedRecord;
        const fields = (typeof record.message === 'object' ? record.message : record) as StartedRecord;
        this.restored.push(fields);
        this.restoredAt.push(arrived);
      } catch {
        // not a JSON line
      }
    }
  }
}

/** A promise-returning client of ateom's three workload calls for the benchmark's one actor. */
export class Ateom {
  private readonly client: ateom.AteomClient;

  constructor(
    socket: string,
    private readonly runscPath: string,
  ) {
    this.client = new ateom.AteomClient(`unix://${socket}`, credentials.createInsecure());
  }

  private get base() {
    return {
      ...ACTOR,
      runscPath: this.runscPath,
      spec: {
        containers: [
          {
            name: CONTAINER,
            readyz: { httpGet: { path: '/readyz', port: COUNTER_PORT } },
            durableDirVolumes: [COUNTER_DURABLE_DIR],
          },
        ],
      },
    };
  }

  run(): Promise<ateom.RunWorkloadResponse> {
    return unaryCall(
      (r, m, o, cb) => this.client.runWorkload(r, m, o, cb),
      ateom.RunWorkloadRequest.fromPartial(this.base),
      CALL_TIMEOUT_MS,
    );
  }

  checkpoint(scope: ateom.SnapshotScope): Promise<ateom.CheckpointWorkloadResponse> {
    return unaryCall(
      (r, m, o, cb) => this.client.checkpointWorkload(r, m, o, cb),
      ateom.CheckpointWorkloadRequest.fromPartial({ ...this.base, scope }),
      CALL_TIMEOUT_MS,
    );
  }

  restore(): Promise<ateom.RestoreWorkloadResponse> {
    return unaryCall(
      (r, m, o, cb) => this.client.restoreWorkload(r, m, o, cb),
      ateom.RestoreWorkloadRequest.fromPartial({ ...this.base, scope: FULL }),
      CALL_TIMEOUT_MS,
    );
  }

  close(): void {
    this.client.close();
  }
}

/** The containers runsc knows under the state root `stateDir` (`runsc list`), with their bundles. */
export function runscList(stateDir: string): { id: string; bundle: string }[] {
  const out = execFileSync(requireTool('runsc'), [`--root=${stateDir}`, 'list', '--format=json'], {
    encoding: 'utf8',
  });
  return (JSON.parse(out.trim() === '' ? '[]' : out) as { id: string; bundle: string }[] | null) ?? [];
}

/**
 * Waits until ateom's background deletion of its stopped sandbox has finished; how long that took. Then
 * 100 ms more, for what ateom does after the deletion (setting the sandbox address for the next start).
 */
export async function waitDeleted(stateDir: string): Promise<number> {
  const started = performance.now();
  for (let i = 0; runscList(stateDir).length > 0; i++) {
    if (i > 600) throw new Error(`ateom's sandbox under ${stateDir} was not deleted within 30 s`);
    await sleep(50);
  }
  const deletedMs = performance.now() - started;
  await sleep(100);
  return deletedMs;
}

/** The paths of the worker and its one actor on the node (`<dir>/node`), as atelet and ateom lay them out. */
export interface CounterWorkerPaths {
  readonly root: string;
  readonly socket: string;
  readonly actorDir: string;
  /** Where ateom leaves a checkpoint's files (atelet moves them into a snapshot). */
  readonly checkpointDir: string;
  /** Where atelet stages a snapshot's files for a restore. */
  readonly restoreDir: string;
  /** ateom's runsc state root. */
  readonly ateomStateDir: string;
}

export interface CounterWorkerOptions {
  /** A fresh directory for the node's files, the unpacked image and runsc's copy. */
  readonly dir: string;
  /** The worker's name (ateom's network namespace and links are named after it). */
  readonly name: string;
  /** ateom's worker endpoint index (its /30 in 169.254.128.0/17). */
  readonly endpointIndex: number;
  /** Extra environment of the counter process (added to the image's). */
  readonly counterEnv?: Readonly<Record<string, string>>;
  readonly log: (message: string) => void;
}

/** One ateom worker with the counter actor's bundle prepared. */
export class CounterWorker {
  private constructor(
    readonly process: AteomProcess,
    readonly client: Ateom,
    readonly paths: CounterWorkerPaths,
    /** The counter's address on the worker endpoint (ateom forwards it into the sandbox). */
    readonly endpoint: string,
    private readonly imageConfig: { root: { path: string }; process: { env?: string[] } },
    private readonly bundleConfig: string,
  ) {}

  static async start(options: CounterWorkerOptions): Promise<CounterWorker> {
    const { dir, log } = options;
    log('building the counter image');
    const image = await buildImage('counter');
    const unpackedDir = join(dir, 'image');
    execFileSync(requireTool('umoci'), ['unpack', '--image', `${image.layoutDir}:${image.tag}`, unpackedDir]);
    const imageConfig = JSON.parse(readFileSync(join(unpackedDir, 'config.json'), 'utf8')) as {
      root: { path: string };
      process: { env?: string[] };
    };
    imageConfig.root.path = join(unpackedDir, 'rootfs');
    const runscPath = contentAddressedRunsc(join(dir, 'static-files'));

    const root = join(dir, 'node');
    const workDir = join(root, 'workers', options.name);
    const actorDir = join(root, 'actors', ACTOR_KEY);
    const paths: CounterWorkerPaths = {
      root,
      socket: join(workDir, 'ateom.sock'),
      actorDir,
      checkpointDir: join(actorDir, 'checkpoint-state'),
      restoreDir: join(actorDir, 'restore-state'),
      ateomStateDir: join(workDir, 'runsc-state'),
    };
    // atelet's part: the actor's bundle, its root pointing at the unpacked image.
    const bundleConfig = join(actorDir, 'bundles', CONTAINER, 'config.json');
    mkdirSync(join(actorDir, 'bundles', CONTAINER), { recursive: true });

    log(`starting ateom (worker ${options.name}, endpoint index ${options.endpointIndex})`);
    const ateomProcess = await AteomProcess.start(
      {
        ATEOM_ROOT: root,
        ATEOM_WORKER: options.name,
        ATEOM_ENDPOINT_INDEX: String(options.endpointIndex),
        ...ateomToolsEnv(),
      },
      paths.socket,
    );
    // The worker's endpoint (see ateom's endpointAddresses): 169.254.128.0/17, one /30 per index.
    const endpointOffset = (128 << 8) + options.endpointIndex * 4 + 2;
    const endpoint = `169.254.${endpointOffset >> 8}.${endpointOffset & 255}`;
    const worker = new CounterWorker(
      ateomProcess,
      new Ateom(paths.socket, runscPath),
      paths,
      endpoint,
      imageConfig,
      bundleConfig,
    );
    worker.setCounterEnv(options.counterEnv ?? {});
    return worker;
  }

  /** Rewrites the actor's bundle with `env` added to the image's environment (takes effect on the next run). */
  setCounterEnv(env: Readonly<Record<string, string>>): void {
    const config = structuredClone(this.imageConfig);
    config.process.env = [...(config.process.env ?? []), ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
    writeFileSync(this.bundleConfig, JSON.stringify(config));
  }

  /** Closes the client and stops ateom (which deletes its sandbox and network). */
  async stop(): Promise<void> {
    this.client.close();
    await this.process.stop();
  }
}
