import { mkdir, open, readFile, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand, type CommandOptions } from './command';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandFailedError, InvalidNameError, OpenConnectionError, RunscError } from './errors';

/** `runsc state` as far as ateom reads it. */
export interface RunscState {
  readonly id: string;
  readonly status: string;
  readonly pid: number;
}

/** A container runsc knows in its state root (`runsc list`). */
export interface RunscContainer {
  readonly id: string;
  readonly status: string;
  /**
   * True for a root container: one that made its own sandbox (no `io.kubernetes.cri.container-type:
   * container` annotation). Deleting a root container first ends its sandbox and every container in it.
   */
  readonly root: boolean;
}

/** A checkpoint image directory as runsc left it (`checkpoint.img`, `pages.img`, `pages_meta.img`, ...). */
export interface CheckpointImage {
  readonly imageDir: string;
  /** Names of the regular files in the image directory, sorted. */
  readonly files: readonly string[];
  readonly bytes: number;
  readonly durationMs: number;
}

/**
 * Where a detached sandbox's stdout and stderr go: descriptors the sandboxed process inherits from runsc
 * (pipes of the actor log, see `ActorLog`). runsc's own messages for `run` and `restore` arrive on the
 * same descriptors.
 */
export interface SandboxOutput {
  readonly stdoutFd: number;
  readonly stderrFd: number;
  /** The last output received, quoted when runsc fails. */
  tail(): string;
  /** Where the output ends up, for error messages. */
  readonly description: string;
}

export interface RunscTimeouts {
  readonly runMs: number;
  readonly checkpointMs: number;
  readonly restoreMs: number;
  /** kill, delete, state. */
  readonly controlMs: number;
}

export const DEFAULT_RUNSC_TIMEOUTS: RunscTimeouts = {
  runMs: 30_000,
  checkpointMs: 60_000,
  restoreMs: 60_000,
  controlMs: 10_000,
};

export interface RunscDriverOptions {
  /** Path of the runsc binary. */
  readonly runsc: string;
  /** runsc's `--root`: where it keeps container state. */
  readonly stateDir: string;
  /**
   * Run `run` and `restore` inside a private mount namespace with a tmpfs over `/proc/sys/net` (see
   * {@link PROC_SYS_NET_WORKAROUND_SCRIPT}). Needed on kernels where runsc 0.0~20240729 refuses every
   * network namespace as "root network namespace"; decide with {@link needsProcSysNetWorkaround}.
   */
  readonly procSysNetWorkaround: boolean;
  /** Path of `unshare` (util-linux); required when the workaround is on. */
  readonly unshare?: string;
  readonly platform?: string;
  readonly timeouts?: Partial<RunscTimeouts>;
}

/**
 * The shell run by `unshare -m` for the workaround: make every mount private, hide the host's
 * `/proc/sys/net` under a tmpfs (runsc only checks whether `core/rmem_default` exists there), then exec
 * runsc with the remaining arguments. The sandbox processes runsc starts inherit this mount namespace.
 */
export const PROC_SYS_NET_WORKAROUND_SCRIPT =
  'mount --make-rprivate / && mount -t tmpfs none /proc/sys/net && exec "$@"';

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** runsc's refusal to save a TCP endpoint; group 1 names the connection. */
const CONNECTED_ON_SAVE = /endpoint cannot be saved in connected state: (local [^,\s]+, remote [^\s:]+:\d+)/;

/** The connection named by runsc's refusal to save a TCP endpoint, if `message` is that refusal. */
export function openConnectionIn(message: string): string | undefined {
  return CONNECTED_ON_SAVE.exec(message)?.[1];
}

/** Retries of a checkpoint refused for a closing connection: after 50, 100, 200, 400 and 800 ms. */
const CONNECTED_RETRIES = 5;

/** Validates a runsc container id: 1–64 characters of `[A-Za-z0-9_.-]`, starting with a letter or digit. */
export function validateContainerId(id: string): string {
  if (!CONTAINER_ID.test(id)) {
    throw new InvalidNameError('container id', id, 'expected 1-64 characters of [A-Za-z0-9_.-]');
  }
  return id;
}

/**
 * True when runsc would refuse the network namespace at `namespacePath` as the root namespace: this
 * runsc treats a namespace as the root one when `/proc/sys/net/core/rmem_default` exists in it, which
 * recent kernels show in every namespace. Checked by looking from inside the namespace (`nsenter`).
 */
export async function needsProcSysNetWorkaround(
  nsenter: string,
  namespacePath: string,
  timeoutMs = 5_000,
): Promise<boolean> {
  try {
    await runCommand(nsenter, [`--net=${namespacePath}`, 'test', '-e', '/proc/sys/net/core/rmem_default'], {
      timeoutMs,
    });
    return true;
  } catch (error) {
    if (error instanceof CommandFailedError && error.exitCode === 1) return false;
    throw error;
  }
}

/** Resolves the workaround setting: `on`/`off` as given, `auto` by {@link needsProcSysNetWorkaround}. */
export async function resolveProcSysNetWorkaround(
  mode: 'auto' | 'on' | 'off',
  nsenter: string,
  namespacePath: string,
): Promise<boolean> {
  if (mode !== 'auto') return mode === 'on';
  return needsProcSysNetWorkaround(nsenter, namespacePath);
}

/**
 * Drives one runsc state root: run (detached), checkpoint, restore (detached), kill, delete, state.
 * Every call has a deadline; the sandboxed process's stdout and stderr (and runsc's own messages for
 * run and restore) go to the log file given.
 */
export class RunscDriver {
  private readonly timeouts: RunscTimeouts;

  constructor(private readonly options: RunscDriverOptions) {
    this.timeouts = { ...DEFAULT_RUNSC_TIMEOUTS, ...options.timeouts };
    if (options.procSysNetWorkaround && options.unshare === undefined) {
      throw new Error('RunscDriver: procSysNetWorkaround needs the path of unshare');
    }
  }

  /** The flags every invocation starts with. */
  globalFlags(): string[] {
    return [
      `--root=${this.options.stateDir}`,
      `--platform=${this.options.platform ?? 'systrap'}`,
      '--network=sandbox',
      '--overlay2=root:memory',
    ];
  }

  /**
   * `runsc run --bundle B --detach ID`: creates and starts the sandbox, returns once it runs. `output` is
   * a log file (appended to) or the descriptors of an actor log.
   */
  async run(id: string, bundleDir: string, output: string | SandboxOutput): Promise<void> {
    validateContainerId(id);
    await mkdir(this.options.stateDir, { recursive: true, mode: 0o700 });
    await this.detached(
      'run',
      id,
      ['run', `--bundle=${bundleDir}`, '--detach', id],
      output,
      this.timeouts.runMs,
    );
  }

  /**
   * `runsc checkpoint --compression=none --image-path DIR ID`: writes memory and rootfs writes to
   * `imageDir` uncompressed (ateom compresses with zstd itself). Without `leaveRunning` the sandbox stops.
   */
  async checkpoint(id: string, imageDir: string, { leaveRunning = false } = {}): Promise<CheckpointImage> {
    validateContainerId(id);
    await mkdir(imageDir, { recursive: true });
    const started = performance.now();
    const args = ['checkpoint', '--compression=none', `--image-path=${imageDir}`];
    if (leaveRunning) args.push('--leave-running');
    // A connection that is still closing makes runsc refuse the checkpoint. The sandbox usually keeps
    // running and the state clears within milliseconds, so retry a few times; but this runsc sometimes
    // loses the sandbox with the refusal, and then there is nothing to retry.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.control('checkpoint', id, [...args, id], this.timeouts.checkpointMs);
        break;
      } catch (error) {
        const connection = error instanceof RunscError ? openConnectionIn(error.message) : undefined;
        if (connection === undefined) throw error;
        const alive = await this.alive(id);
        if (attempt >= CONNECTED_RETRIES || !alive) {
          throw new OpenConnectionError(id, connection, alive, { cause: error });
        }
        await sleep(50 * 2 ** attempt);
        // runsc refuses to write over the files the failed attempt left.
        await rm(imageDir, { recursive: true, force: true });
        await mkdir(imageDir, { recursive: true, mode: 0o700 });
      }
    }
    const durationMs = performance.now() - started;
    const files: string[] = [];
    let bytes = 0;
    for (const entry of await readdir(imageDir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      files.push(entry.name);
      bytes += (await stat(join(imageDir, entry.name))).size;
    }
    return { imageDir, files: files.sort(), bytes, durationMs };
  }

  /** `runsc restore --image-path DIR --bundle B --detach ID`: a new sandbox from a checkpoint image. */
  async restore(
    id: string,
    bundleDir: string,
    imageDir: string,
    output: string | SandboxOutput,
  ): Promise<void> {
    validateContainerId(id);
    await mkdir(this.options.stateDir, { recursive: true, mode: 0o700 });
    const args = ['restore', `--image-path=${imageDir}`, `--bundle=${bundleDir}`, '--detach', id];
    await this.detached('restore', id, args, output, this.timeouts.restoreMs);
  }

  /**
   * True when the sandbox process of `id` exists and is not a zombie. `runsc state` alone is not enough:
   * it reads a state file that still says "running" after the sandbox exited.
   */
  async alive(id: string): Promise<boolean> {
    const state = await this.state(id).catch(() => undefined);
    if (state === undefined || !Number.isInteger(state.pid) || state.pid <= 0) return false;
    const stat = await readFile(`/proc/${state.pid}/stat`, 'utf8').catch(() => undefined);
    // Field 3, after the parenthesised command name, is the process state.
    return stat !== undefined && !/\)\s+[ZX]\s/.test(stat);
  }

  /** `runsc kill ID SIGNAL`. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    validateContainerId(id);
    await this.control('kill', id, ['kill', id, signal.replace(/^SIG/, '')], this.timeouts.controlMs);
  }

  /** `runsc pause ID`: freezes every task of the sandbox (used to quiesce it before reading its files). */
  async pause(id: string): Promise<void> {
    validateContainerId(id);
    await this.control('pause', id, ['pause', id], this.timeouts.controlMs);
  }

  /** `runsc delete --force ID`; a container that does not exist is not an error. */
  async delete(id: string): Promise<void> {
    validateContainerId(id);
    if ((await this.state(id)) === undefined) return;
    await this.control('delete', id, ['delete', '--force', id], this.timeouts.controlMs);
  }

  /** `runsc list --format=json`: the containers of this state root, root containers first. */
  async list(): Promise<RunscContainer[]> {
    let stdout: string;
    try {
      ({ stdout } = await runCommand(this.options.runsc, [...this.globalFlags(), 'list', '--format=json'], {
        timeoutMs: this.timeouts.controlMs,
      }));
    } catch (error) {
      throw new RunscError('list', '-', error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
    if (stdout.trim() === '' || stdout.trim() === 'null') return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch (error) {
      throw new RunscError('list', '-', `unreadable output ${JSON.stringify(stdout.slice(0, 200))}`, {
        cause: error,
      });
    }
    const entries = Array.isArray(parsed) ? (parsed as Partial<RunscListEntry>[]) : [];
    return entries
      .map((entry) => ({
        id: String(entry.id),
        status: String(entry.status),
        root: entry.annotations?.['io.kubernetes.cri.container-type'] !== 'container',
      }))
      .sort((a, b) => Number(b.root) - Number(a.root));
  }

  /** `runsc state ID`, or undefined when runsc does not know the container. */
  async state(id: string): Promise<RunscState | undefined> {
    validateContainerId(id);
    let stdout: string;
    try {
      ({ stdout } = await runCommand(this.options.runsc, [...this.globalFlags(), 'state', id], {
        timeoutMs: this.timeouts.controlMs,
      }));
    } catch (error) {
      if (error instanceof CommandFailedError && /does not exist|cannot load container/i.test(error.stderr)) {
        return undefined;
      }
      throw new RunscError('state', id, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
    try {
      const parsed = JSON.parse(stdout) as Partial<RunscState>;
      return { id: String(parsed.id), status: String(parsed.status), pid: Number(parsed.pid) };
    } catch (error) {
      throw new RunscError('state', id, `unreadable output ${JSON.stringify(stdout.slice(0, 200))}`, {
        cause: error,
      });
    }
  }

  private async control(
    operation: string,
    id: string,
    args: readonly string[],
    timeoutMs: number,
  ): Promise<void> {
    try {
      await runCommand(this.options.runsc, [...this.globalFlags(), ...args], { timeoutMs });
    } catch (error) {
      throw new RunscError(operation, id, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
  }

  private async detached(
    operation: string,
    id: string,
    args: readonly string[],
    output: string | SandboxOutput,
    timeoutMs: number,
  ): Promise<void> {
    const log = typeof output === 'string' ? await open(output, 'a+', 0o640) : undefined;
    const options: CommandOptions =
      typeof output === 'string'
        ? { timeoutMs, outputFd: log?.fd }
        : { timeoutMs, outputFd: output.stdoutFd, errorFd: output.stderrFd };
    const runscArgs = [...this.globalFlags(), ...args];
    try {
      if (this.options.procSysNetWorkaround) {
        const unshare = this.options.unshare ?? 'unshare';
        await runCommand(
          unshare,
          ['-m', 'sh', '-c', PROC_SYS_NET_WORKAROUND_SCRIPT, 'runsc', this.options.runsc, ...runscArgs],
          options,
        );
      } else {
        await runCommand(this.options.runsc, runscArgs, options);
      }
    } catch (error) {
      const last =
        log !== undefined
          ? await tail(log, 2_048).catch(() => '')
          : typeof output === 'string'
            ? ''
            : output.tail();
      const where = typeof output === 'string' ? output : output.description;
      const message = error instanceof Error ? error.message : String(error);
      const detail = `${message}; last output in ${where}: ${last.trim()}`;
      throw new RunscError(operation, id, detail, { cause: error });
    } finally {
      await log?.close();
    }
  }
}

/** One entry of `runsc list --format=json`, as far as ateom reads it. */
interface RunscListEntry {
  readonly id: string;
  readonly status: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The last `bytes` bytes of an open file, as text. */
async function tail(file: FileHandle, bytes: number): Promise<string> {
  const { size } = await file.stat();
  const length = Math.min(size, bytes);
  const buffer = Buffer.alloc(length);
  await file.read(buffer, 0, length, size - length);
  return buffer.toString('utf8');
}
