import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { parseCounterReply, type CounterReply } from '@substrate/images';
import { atelet } from '@substrate/proto';

export const REPO_ROOT = resolve(__dirname, '../../..');
const SWC_REGISTER = join(REPO_ROOT, 'tools/scripts/swc-register.js');

/** The tools an atelet integration test needs (ateom's, as it runs real ateoms). */
export const NODE_COMPONENTS = ['runsc', 'ip', 'nft', 'sysctl', 'unshare', 'nsenter', 'tar', 'mkfifo'];

/** The endpoint address of ateom's forwarded worker network `index` (docs/sandbox.md). */
export function endpointAddress(index: number): string {
  const n = 4 * index + 2;
  return `169.254.${128 + Math.floor(n / 256)}.${n % 256}`;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A service (ateom or atelet) run from source as a child process; stopped by pid. */
export class ServiceProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString('utf8')).slice(-65_536));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  }

  /** Starts `apps/<app>/src/main.ts` with `env` and waits until `ready` says so. */
  static async start(
    name: string,
    app: 'ateom' | 'atelet',
    env: Record<string, string>,
    ready: () => Promise<boolean>,
  ): Promise<ServiceProcess> {
    const child = spawn(process.execPath, ['-r', SWC_REGISTER, join(REPO_ROOT, 'apps', app, 'src/main.ts')], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(name, child);
    let running = true;
    void service.exited.then(() => (running = false));
    while (!(await ready())) {
      if (!running) throw new Error(`${name} exited before it was ready:\n${service.log}`);
      await sleep(50);
    }
    return service;
  }

  get log(): string {
    return this.output;
  }

  /** SIGKILL by pid, as a crash would; resolves once reaped. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      process.kill(this.child.pid, 'SIGKILL');
    }
    await this.exited;
  }

  /** SIGTERM by pid; resolves once reaped. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      process.kill(this.child.pid, 'SIGTERM');
    }
    await this.exited;
  }
}

/** One GET; the client closes the connection once the answer is read (this runsc cannot checkpoint open ones). */
export function httpGet(host: string, port: number, path: string): Promise<string> {
  return new Promise((done, fail) => {
    const req = request(
      { host, port, path, agent: false, timeout: 10_000, headers: { connection: 'keep-alive' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', fail);
        res.once('end', () => {
          req.destroy();
          if (res.statusCode === 200) done(Buffer.concat(chunks).toString('utf8'));
          else fail(new Error(`GET ${path}: HTTP ${String(res.statusCode)}`));
        });
      },
    );
    req.once('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 10 s`)));
    req.once('error', fail);
    req.end();
  });
}

export async function callCounter(host: string, port: number): Promise<CounterReply> {
  return parseCounterReply(await httpGet(host, port, '/'));
}

/** A promise-returning client of atelet's AteomHerder. */
export class HerderClient {
  readonly raw: atelet.AteomHerderClient;

  constructor(address: string) {
    this.raw = new atelet.AteomHerderClient(address, credentials.createInsecure());
  }

  run(request: Partial<atelet.RunRequest>): Promise<atelet.RunResponse> {
    return this.call((r, m, o, cb) => this.raw.run(r, m, o, cb), atelet.RunRequest.fromPartial(request));
  }

  checkpoint(request: Partial<atelet.CheckpointRequest>): Promise<atelet.CheckpointResponse> {
    return this.call(
      (r, m, o, cb) => this.raw.checkpoint(r, m, o, cb),
      atelet.CheckpointRequest.fromPartial(request),
    );
  }

  restore(request: Partial<atelet.RestoreRequest>): Promise<atelet.RestoreResponse> {
    return this.call(
      (r, m, o, cb) => this.raw.restore(r, m, o, cb),
      atelet.RestoreRequest.fromPartial(request),
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
    return new Promise((done, fail) => {
      method(request, new Metadata(), { deadline: new Date(Date.now() + 240_000) }, (error, response) =>
        error ? fail(error) : done(response),
      );
    });
  }
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

/** One line of an actor's log as atelet serves it (docs/atelet.md, "Actor logs"). */
export interface ActorLogRecord {
  readonly time: string;
  readonly message: string;
  readonly stream: 'stdout' | 'stderr' | 'lifecycle';
  readonly labels: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

function actorLogUrl(httpPort: number, atespace: string, actor: string, query: string): string {
  return `http://127.0.0.1:${httpPort}/v1/atespaces/${atespace}/actors/${actor}/logs${query}`;
}

function parseRecords(text: string): ActorLogRecord[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ActorLogRecord);
}

/** `GET …/logs<query>` on atelet's HTTP port: the status, content type and, for a 200, the records. */
export async function getActorLog(
  httpPort: number,
  atespace: string,
  actor: string,
  query = '',
): Promise<{ status: number; type: string | null; records: ActorLogRecord[]; body: string }> {
  const response = await fetch(actorLogUrl(httpPort, atespace, actor, query), {
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    records: response.status === 200 ? parseRecords(body) : [],
    body,
  };
}

/** A `follow=true` read of an actor's log: the records so far, `until` a condition, `stop`. */
export async function followActorLog(httpPort: number, atespace: string, actor: string, query: string) {
  const controller = new AbortController();
  const response = await fetch(actorLogUrl(httpPort, atespace, actor, `${query}&follow=true`), {
    signal: controller.signal,
  });
  if (response.status !== 200 || response.body === null) {
    throw new Error(`follow ${actor}: HTTP ${response.status} ${await response.text()}`);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const pumping = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // aborted
    }
  })();
  const records = () => parseRecords(text.slice(0, text.lastIndexOf('\n') + 1));
  return {
    records,
    async until(done: (records: ActorLogRecord[]) => boolean, timeoutMs = 10_000): Promise<ActorLogRecord[]> {
      const deadline = Date.now() + timeoutMs;
      while (!done(records())) {
        if (Date.now() > deadline) throw new Error(`follow ${actor}: condition not met; got:\n${text}`);
        await sleep(50);
      }
      return records();
    },
    async stop(): Promise<void> {
      controller.abort();
      await pumping;
    },
  };
}
