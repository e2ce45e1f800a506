import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  buildImage,
  parseCounterReply,
  type BuiltImage,
  type CounterReply,
  type ImageName,
} from '@substrate/images';
import { ateom } from '@substrate/proto';
import { Settings } from '@substrate/service';
import { ateomToolsEnv, contentAddressedRunsc, requireTool, unixSocketAccepts } from '@substrate/testing';
import { loadAteomConfig, type AteomConfig } from '../src/config';

export { contentAddressedRunsc };
import { actorPaths, type ActorPaths, type ActorRef } from '../src/workload/workload-request';

/** The tools an ateom integration test needs. */
export const ATEOM_COMPONENTS = [
  'runsc',
  'ip',
  'nft',
  'sysctl',
  'unshare',
  'nsenter',
  'tar',
  'umoci',
  'mkfifo',
];

/** Environment for an ateom process (or `loadAteomConfig`) of one worker under `root`. */
export function ateomEnv(
  root: string,
  worker: string,
  endpointIndex: number,
  extra: Record<string, string> = {},
) {
  return {
    ATEOM_ROOT: root,
    ATEOM_WORKER: worker,
    ATEOM_ENDPOINT_INDEX: String(endpointIndex),
    ...ateomToolsEnv(),
    ...extra,
  };
}

export function ateomConfig(
  root: string,
  worker: string,
  endpointIndex: number,
  extra: Record<string, string> = {},
): AteomConfig {
  return loadAteomConfig(new Settings(ateomEnv(root, worker, endpointIndex, extra)));
}

/** The counter image, unpacked once with umoci (as atelet will unpack images) into `<dir>/bundle`. */
export async function unpackedCounter(
  dir: string,
): Promise<{ image: BuiltImage; rootfs: string; config: string }> {
  return unpackedImage(dir, 'counter');
}

/** One of the test images (`tools/images`), unpacked once with umoci into `<dir>/bundle`. */
export async function unpackedImage(
  dir: string,
  name: ImageName,
): Promise<{ image: BuiltImage; rootfs: string; config: string }> {
  const image = await buildImage(name);
  const bundle = join(dir, 'bundle');
  execFileSync(requireTool('umoci'), ['unpack', '--image', `${image.layoutDir}:${image.tag}`, bundle]);
  return { image, rootfs: join(bundle, 'rootfs'), config: readFileSync(join(bundle, 'config.json'), 'utf8') };
}

/**
 * What atelet does before Run/Restore: the actor's bundle directory with `config.json` (umoci's, its
 * root pointing at the shared unpacked rootfs, as atelet's digest-keyed rootfs cache will), `env`
 * appended to the image's.
 */
export function prepareBundle(
  paths: ActorPaths,
  container: string,
  unpacked: { rootfs: string; config: string },
  env: readonly string[] = [],
): void {
  const dir = paths.bundle(container);
  mkdirSync(dir, { recursive: true });
  const config = JSON.parse(unpacked.config) as { root: { path: string }; process: { env?: string[] } };
  config.root.path = unpacked.rootfs;
  // The template's env after the image's, as atelet writes it.
  config.process.env = [...(config.process.env ?? []), ...env];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
}

/** atelet's side of a checkpoint: move the reported files out of `checkpoint-state/` into a snapshot dir. */
export function keepSnapshot(paths: ActorPaths, files: readonly string[], into: string): string {
  mkdirSync(into, { recursive: true });
  for (const file of files) renameSync(join(paths.checkpointDir, file), join(into, file));
  return into;
}

/** atelet's side of a restore: an empty `restore-state/` with a copy of the snapshot's files. */
export function stageSnapshot(paths: ActorPaths, snapshot: string): void {
  rmSync(paths.restoreDir, { recursive: true, force: true });
  mkdirSync(paths.restoreDir, { recursive: true });
  for (const file of readdirSync(snapshot)) copyFileSync(join(snapshot, file), join(paths.restoreDir, file));
}

export function pathsOf(config: AteomConfig, actor: ActorRef): ActorPaths {
  return actorPaths(config.actorsDir, actor);
}

/** A typed client of one ateom's socket with promise-returning calls (deadline 120 s). */
export class AteomTestClient {
  readonly raw: ateom.AteomClient;

  constructor(socket: string) {
    this.raw = new ateom.AteomClient(`unix://${socket}`, credentials.createInsecure());
  }

  run(request: Partial<ateom.RunWorkloadRequest>): Promise<ateom.RunWorkloadResponse> {
    return this.call(
      (r, m, o, cb) => this.raw.runWorkload(r, m, o, cb),
      ateom.RunWorkloadRequest.fromPartial(request),
    );
  }

  checkpoint(request: Partial<ateom.CheckpointWorkloadRequest>): Promise<ateom.CheckpointWorkloadResponse> {
    return this.call(
      (r, m, o, cb) => this.raw.checkpointWorkload(r, m, o, cb),
      ateom.CheckpointWorkloadRequest.fromPartial(request),
    );
  }

  restore(request: Partial<ateom.RestoreWorkloadRequest>): Promise<ateom.RestoreWorkloadResponse> {
    return this.call(
      (r, m, o, cb) => this.raw.restoreWorkload(r, m, o, cb),
      ateom.RestoreWorkloadRequest.fromPartial(request),
    );
  }

  close(): void {
    this.raw.close();
  }

  private call<Req, Res>(
    method: (
      request: Req,
      metadata: Metadata,
      options: { deadline: Date },
      callback: (error: ServiceError | null, response: Res) => void,
    ) => unknown,
    request: Req,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      method(request, new Metadata(), { deadline: new Date(Date.now() + 120_000) }, (error, response) =>
        error ? reject(error) : resolve(response),
      );
    });
  }
}

/**
 * One GET to the actor over a raw TCP connection; the body as text. Like the readiness probe, the
 * client resets the connection once the answer is read, so no sandbox endpoint is left open, closing or
 * in TIME_WAIT when a checkpoint follows (this runsc refuses to save one). Answers need a Content-Length.
 */
export function httpGet(host: string, port: number, path: string): Promise<string> {
  return httpRequest(host, port, 'GET', path);
}

/** POSTs a JSON body (reset after the answer, like {@link httpGet}); the answer parsed as JSON. */
export async function httpPostJson(
  host: string,
  port: number,
  path: string,
  body: unknown,
): Promise<unknown> {
  return JSON.parse(await httpRequest(host, port, 'POST', path, JSON.stringify(body))) as unknown;
}

function httpRequest(
  host: string,
  port: number,
  method: string,
  path: string,
  body?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    let received = Buffer.alloc(0);
    let answer: { status: number; body: string } | undefined;
    socket.once('connect', () => {
      const payload =
        body === undefined
          ? ''
          : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n${payload}\r\n${body ?? ''}`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const headerEnd = received.indexOf('\r\n\r\n');
      if (answer !== undefined || headerEnd < 0) return;
      const head = received.subarray(0, headerEnd).toString('latin1');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
      if (!Number.isFinite(length)) {
        socket.destroy(new Error(`${method} ${path}: answer without Content-Length`));
        return;
      }
      if (received.length < headerEnd + 4 + length) return;
      answer = {
        status: Number(head.split(' ')[1]),
        body: received.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8'),
      };
      socket.resetAndDestroy();
    });
    socket.once('error', reject);
    socket.once('close', () => {
      if (answer === undefined) reject(new Error(`${method} ${path}: connection closed before the answer`));
      else if (answer.status === 200) resolve(answer.body);
      else reject(new Error(`${method} ${path}: HTTP ${answer.status}`));
    });
  });
}

export async function callCounter(host: string, port: number): Promise<CounterReply> {
  return parseCounterReply(await httpGet(host, port, '/'));
}

/** The gRPC failure of a call that must fail. */
export async function grpcFailure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** An ateom started as a real child process (`node -r tools/scripts/swc-register.js src/main.ts`), killable by pid. */
export class AteomProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(private readonly child: ChildProcess) {
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString('utf8')).slice(-32_768));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts ateom with `env` and waits until its socket accepts connections. */
  static async start(env: Record<string, string>, socket: string): Promise<AteomProcess> {
    const child = spawn(
      process.execPath,
      ['-r', join(__dirname, '../../../tools/scripts/swc-register.js'), join(__dirname, '../src/main.ts')],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const ateom = new AteomProcess(child);
    let running = true;
    void ateom.exited.then(() => (running = false));
    while (!(await unixSocketAccepts(socket))) {
      if (!running) throw new Error(`ateom exited before serving:\n${ateom.log}`);
      await sleep(50);
    }
    return ateom;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('ateom has no pid');
    return this.child.pid;
  }

  get log(): string {
    return this.output;
  }

  /** SIGKILL by pid, as a crash would; waits until it is reaped. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }

  /** SIGTERM by pid (graceful shutdown); resolves with how it exited. */
  async terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.pid, 'SIGTERM');
    return this.exited;
  }
}

/** Runs ateom with `env` until it exits by itself (e.g. refusing to start); its exit code and output. */
export function runAteomToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['-r', join(__dirname, '../../../tools/scripts/swc-register.js'), join(__dirname, '../src/main.ts')],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('close', (code) => resolve({ code, output }));
  });
}
