// The reference for restore benchmarks: bare `runsc restore` of a checkpoint image, timed to the first
// HTTP answer, with nothing of ateom in the path. It invokes runsc exactly as ateom's `RunscDriver`
// does (apps/ateom/src/sandbox/runsc.ts: global flags, `restore --image-path --bundle --detach`, the
// /proc/sys/net workaround) and gives the sandbox a network namespace of the same shape as ateom's
// `NetnsManager` (a veth pair, the sandbox end renamed `eth0`, address and default route set again before
// each restore because runsc takes them over). ateom's code lives in an app, which tools may not import;
// these few commands are repeated here, and the sandbox benchmark checks `RUNSC_FLAGS` against the
// command line of ateom's running sandbox, so a drift shows up as a failed run rather than a wrong figure.
//
// Use: `BareRunsc.open({ runsc, workDir, name, addresses: bareAddresses(i) })`, then per cycle
// `restoreFirstResponse({ imageDir, spec, probe })` → `{ firstResponseMs, runscMs, attempts, body }` and
// `deleteSandbox()`; `close()` at the end removes the sandbox, the namespace and the veth.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The flags every runsc invocation of ateom starts with (after `--root`). */
export const RUNSC_FLAGS: readonly string[] = [
  '--platform=systrap',
  '--network=sandbox',
  '--overlay2=root:memory',
];

/** ateom's /proc/sys/net workaround: runsc under `unshare -m sh -c SCRIPT runsc <runsc> <args>`. */
const PROC_SYS_NET_WORKAROUND_SCRIPT =
  'mount --make-rprivate / && mount -t tmpfs none /proc/sys/net && exec "$@"';

const CONTAINER_ID = 'bare';
const COMMAND_TIMEOUT_MS = 60_000;

/** A /30 of link-local addresses: the host's end of the veth and the sandbox's `eth0`. */
export interface BareAddresses {
  readonly hostAddress: string;
  readonly sandboxAddress: string;
  readonly prefixLength: 30;
}

/**
 * The /30 of a bare sandbox, in 169.254.64.0/18 (clear of ateom's 169.254.17.0/30 and its worker
 * endpoints in 169.254.128.0/17): index 0 is 169.254.64.1 / .2, index 1 is .5 / .6, and so on.
 */
export function bareAddresses(index: number): BareAddresses {
  if (!Number.isInteger(index) || index < 0 || index >= 4_096) {
    throw new RangeError(`bare sandbox index must be 0..4095, got ${index}`);
  }
  const base = (64 << 8) + index * 4;
  const address = (offset: number) => `169.254.${(base + offset) >> 8}.${(base + offset) & 255}`;
  return { hostAddress: address(1), sandboxAddress: address(2), prefixLength: 30 };
}

export interface BareRunscOptions {
  /** The runsc binary (the same one ateom runs). */
  readonly runsc: string;
  /** Where the runsc state root, the bundle and the sandbox's log go (created). */
  readonly workDir: string;
  /** 1–8 characters of [a-z0-9]: names the namespace `atb-<name>` and the host link `atbh-<name>`. */
  readonly name: string;
  readonly addresses: BareAddresses;
  /** `auto` (default): on when `/proc/sys/net/core/rmem_default` is visible inside the namespace. */
  readonly procSysNetWorkaround?: 'auto' | 'on' | 'off';
  /** Paths of the helpers; found on PATH by default. */
  readonly tools?: { readonly ip?: string; readonly unshare?: string; readonly nsenter?: string };
}

/** An HTTP GET polled until it answers 2xx. */
export interface FirstResponseProbe {
  readonly port: number;
  readonly path: string;
  /** Pause between attempts (default 1 ms). */
  readonly intervalMs?: number;
  /**
   * Deadline of one attempt, connect to the end of the answer (default 2 s). Generous: an attempt cut
   * short may still have reached the server (a counter then counts it), and the first request to a
   * freshly restored sandbox is slow.
   */
  readonly attemptTimeoutMs?: number;
  /** Overall deadline (default 30 s). */
  readonly timeoutMs?: number;
}

/** What one bare restore took, from the start of `runsc restore`. */
export interface BareRestoreTiming {
  /** Until the first 2xx answer to the probe, polled once runsc has returned. */
  readonly firstResponseMs: number;
  /** Until `runsc restore --detach` exited. */
  readonly runscMs: number;
  /** Probe attempts made. */
  readonly attempts: number;
  /** The body of the first 2xx answer. */
  readonly body: string;
}

/** What to restore: the checkpoint image and the OCI spec the sandbox was created with. */
export interface BareRestore {
  readonly imageDir: string;
  /**
   * The sandbox's OCI `config.json` as parsed JSON (e.g. the one ateom wrote for the checkpointed run):
   * its network namespace entry is pointed at this sandbox's namespace; everything else is kept, since
   * runsc restores only into the mounts the checkpoint was taken with.
   */
  readonly spec: unknown;
  readonly probe: FirstResponseProbe;
}

/**
 * One bare gVisor sandbox slot: a network namespace and a runsc state root, restored into and deleted
 * again as often as needed. `open` → (`restoreFirstResponse` → `deleteSandbox`)* → `close`.
 */
export class BareRunsc {
  private constructor(
    private readonly options: BareRunscOptions,
    private readonly workaround: boolean,
  ) {}

  /** Creates the namespace and the veth pair (replacing stale ones of the same name). */
  static async open(options: BareRunscOptions): Promise<BareRunsc> {
    if (!/^[a-z0-9]{1,8}$/.test(options.name)) {
      throw new RangeError(`bare sandbox name must be 1-8 characters of [a-z0-9], got ${options.name}`);
    }
    await mkdir(options.workDir, { recursive: true, mode: 0o700 });
    const bare = new BareRunsc(options, false);
    await bare.removeNetwork();
    const { namespace, hostLink } = bare.names;
    const { hostAddress, prefixLength } = options.addresses;
    try {
      await bare.ip('netns', 'add', namespace);
      await bare.ip('link', 'add', hostLink, 'type', 'veth', 'peer', 'name', 'atbp0', 'netns', namespace);
      await bare.ip('-n', namespace, 'link', 'set', 'atbp0', 'name', 'eth0');
      await bare.ip('-n', namespace, 'link', 'set', 'lo', 'up');
      await bare.ip('-n', namespace, 'link', 'set', 'eth0', 'up');
      await bare.ip('addr', 'replace', `${hostAddress}/${prefixLength}`, 'dev', hostLink);
      await bare.ip('link', 'set', hostLink, 'up');
      const mode = options.procSysNetWorkaround ?? 'auto';
      const workaround =
        mode === 'auto'
          ? await succeeds(options.tools?.nsenter ?? 'nsenter', [
              `--net=${bare.namespacePath}`,
              'test',
              '-e',
              '/proc/sys/net/core/rmem_default',
            ])
          : mode === 'on';
      return new BareRunsc(options, workaround);
    } catch (error) {
      await bare.removeNetwork().catch(() => undefined);
      throw error;
    }
  }

  /** Where the restored sandbox answers, from this (the host's) namespace. */
  get address(): string {
    return this.options.addresses.sandboxAddress;
  }

  get namespacePath(): string {
    return join('/run/netns', this.names.namespace);
  }

  /** runsc's state root of this slot (`--root`). */
  get stateDir(): string {
    return join(this.options.workDir, 'runsc-state');
  }

  /** The runsc arguments of a restore, without the binary and the workaround's wrapper. */
  runscCommandLine(imageDir: string): string[] {
    return [
      `--root=${this.stateDir}`,
      ...RUNSC_FLAGS,
      'restore',
      `--image-path=${imageDir}`,
      `--bundle=${this.bundleDir}`,
      '--detach',
      CONTAINER_ID,
    ];
  }

  /**
   * Sets the sandbox address again and writes the bundle (untimed: what any restore needs first), then
   * times `runsc restore --detach` and the probe, polled from the moment runsc returns until it answers
   * 2xx. Not alongside runsc: on a small machine a tight polling loop takes CPU the restore needs, and
   * the restored sandbox does not answer before runsc has returned anyway (measured with polling alongside:
   * the first answer came 20–40 ms after runsc returned, on average).
   * The sandbox keeps running afterwards; {@link deleteSandbox} removes it.
   */
  async restoreFirstResponse(restore: BareRestore): Promise<BareRestoreTiming> {
    await this.prepareAddress();
    await this.writeBundle(restore.spec);
    const log = await open(join(this.options.workDir, 'sandbox.log'), 'a');
    try {
      const args = this.runscCommandLine(restore.imageDir);
      const [file, argv] = this.workaround
        ? [
            this.options.tools?.unshare ?? 'unshare',
            ['-m', 'sh', '-c', PROC_SYS_NET_WORKAROUND_SCRIPT, 'runsc', this.options.runsc, ...args],
          ]
        : [this.options.runsc, args];
      const started = performance.now();
      await execute(file, argv, log.fd);
      const runscMs = performance.now() - started;
      const answer = await pollFirstResponse(this.address, restore.probe);
      return { firstResponseMs: answer.at - started, runscMs, attempts: answer.attempts, body: answer.body };
    } finally {
      await log.close();
    }
  }

  /** `runsc delete --force` of the restored sandbox; nothing when there is none. */
  async deleteSandbox(): Promise<void> {
    if (!(await this.known())) return;
    await execute(this.options.runsc, [`--root=${this.stateDir}`, 'delete', '--force', CONTAINER_ID]);
  }

  /** Deletes the sandbox and removes the namespace and the host link. Idempotent. */
  async close(): Promise<void> {
    await this.deleteSandbox().catch(() => undefined);
    await this.removeNetwork();
  }

  private get names(): { namespace: string; hostLink: string } {
    return { namespace: `atb-${this.options.name}`, hostLink: `atbh-${this.options.name}` };
  }

  private get bundleDir(): string {
    return join(this.options.workDir, 'bundle');
  }

  private async known(): Promise<boolean> {
    return succeeds(this.options.runsc, [`--root=${this.stateDir}`, 'state', CONTAINER_ID]);
  }

  private async prepareAddress(): Promise<void> {
    const { namespace } = this.names;
    const { sandboxAddress, hostAddress, prefixLength } = this.options.addresses;
    await this.ip('-n', namespace, 'addr', 'replace', `${sandboxAddress}/${prefixLength}`, 'dev', 'eth0');
    await this.ip('-n', namespace, 'route', 'replace', 'default', 'via', hostAddress, 'dev', 'eth0');
  }

  private async writeBundle(spec: unknown): Promise<void> {
    const config = structuredClone(spec) as { linux?: { namespaces?: { type: string; path?: string }[] } };
    const namespaces = config.linux?.namespaces ?? [];
    const network = namespaces.find((ns) => ns.type === 'network');
    if (network === undefined) throw new Error('the sandbox spec has no network namespace entry');
    network.path = this.namespacePath;
    await mkdir(this.bundleDir, { recursive: true });
    await writeFile(join(this.bundleDir, 'config.json'), JSON.stringify(config));
  }

  private async removeNetwork(): Promise<void> {
    const { namespace, hostLink } = this.names;
    if (existsSync(`/sys/class/net/${hostLink}`)) await this.ip('link', 'del', hostLink);
    if (existsSync(join('/run/netns', namespace))) await this.ip('netns', 'del', namespace);
  }

  private ip(...args: string[]): Promise<void> {
    return execute(this.options.tools?.ip ?? 'ip', args);
  }
}

/**
 * Polls `GET http://host:port/path` until it answers 2xx; resolves with the instant of that answer
 * (`performance.now()`) and the attempts made. Each connection is reset once its answer is read, as
 * ateom's readiness probe does, so no endpoint is left closing in the sandbox.
 */
export async function pollFirstResponse(
  host: string,
  probe: FirstResponseProbe,
  signal?: AbortSignal,
): Promise<{ at: number; attempts: number; body: string }> {
  const deadline = performance.now() + (probe.timeoutMs ?? 30_000);
  let attempts = 0;
  let lastError: unknown;
  while (performance.now() < deadline) {
    signal?.throwIfAborted();
    attempts += 1;
    try {
      const answer = await httpGet(host, probe.port, probe.path, probe.attemptTimeoutMs ?? 2_000);
      if (answer.status >= 200 && answer.status < 300) {
        return { at: performance.now(), attempts, body: answer.body };
      }
      lastError = new Error(`HTTP ${answer.status}`);
    } catch (error) {
      lastError = error;
    }
    await sleep(probe.intervalMs ?? 1);
  }
  throw new Error(
    `no 2xx answer from http://${host}:${probe.port}${probe.path} after ${attempts} attempts: ${String(lastError)}`,
  );
}

/** One GET over a raw TCP connection, reset after the answer (which needs a Content-Length or chunks). */
function httpGet(
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    let received = Buffer.alloc(0);
    let answer: { status: number; body: string } | undefined;
    socket.once('connect', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      if (answer !== undefined) return;
      received = Buffer.concat([received, chunk]);
      answer = parseAnswer(received);
      if (answer !== undefined) socket.resetAndDestroy();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', (hadError) => {
      clearTimeout(timer);
      if (hadError) return;
      if (answer === undefined) reject(new Error('connection closed without a complete answer'));
      else resolve(answer);
    });
  });
}

/** The status and body once `received` holds a whole HTTP/1.1 answer. */
function parseAnswer(received: Buffer): { status: number; body: string } | undefined {
  const headerEnd = received.indexOf('\r\n\r\n');
  if (headerEnd < 0) return undefined;
  const head = received.subarray(0, headerEnd).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  const body = received.subarray(headerEnd + 4);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
  if (length !== undefined) {
    return body.length >= Number(length)
      ? { status, body: body.subarray(0, Number(length)).toString('utf8') }
      : undefined;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
    const end = body.indexOf('0\r\n\r\n');
    if (end < 0) return undefined;
    let text = '';
    for (let at = 0; at < end;) {
      const lineEnd = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
      text += body.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8');
      at = lineEnd + 2 + size + 2;
    }
    return { status, body: text };
  }
  return undefined;
}

/** Runs a command to completion (stdout/stderr to `fd`, or kept for the error); rejects unless it exits 0. */
function execute(file: string, args: readonly string[], fd?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: fd === undefined ? ['ignore', 'ignore', 'pipe'] : ['ignore', fd, fd],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4_096)));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // `exit`, not `close`: a detached sandbox inherits `fd` and keeps it open.
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(`${file} ${args.join(' ')}: exit ${code ?? signal}${stderr ? `: ${stderr.trim()}` : ''}`),
        );
    });
  });
}

async function succeeds(file: string, args: readonly string[]): Promise<boolean> {
  return execute(file, args).then(
    () => true,
    () => false,
  );
}
