import { join } from 'node:path';
import { ConfigError, Settings } from '@substrate/service';

/** Whether runsc runs behind the /proc/sys/net workaround (see docs/sandbox.md). */
export type ProcSysNetWorkaroundMode = 'auto' | 'on' | 'off';

/** ateom's settings, read once at boot; a bad value stops the process with the setting's name. */
export interface AteomConfig {
  /** This worker's name (`ATEOM_WORKER`, default `w0`): names its network namespaces and directories. */
  readonly worker: string;
  /** The node directory shared with atelet (`ATEOM_ROOT`, default `/var/lib/substrate`). */
  readonly root: string;
  /** Per-actor directories atelet prepares: `<root>/actors`. */
  readonly actorsDir: string;
  /** This worker's own state (runsc root, bundle, identity, log pipes): `<root>/workers/<worker>`. */
  readonly workDir: string;
  /** The gRPC unix socket (`ATEOM_SOCKET`, default `<workDir>/ateom.sock`); ateom listens nowhere else. */
  readonly socket: string;
  /**
   * Index of this worker's forwarded endpoint (`ATEOM_ENDPOINT_INDEX`, 0–8191): the worker gets its own
   * namespace reached at 169.254.128.0/17 + 4·index + 2. Unset: the sandbox is reached directly at
   * 169.254.17.2 (one worker per network namespace, the Kubernetes shape).
   */
  readonly endpointIndex?: number;
  /** Deadline of the readiness probe after a run or restore (`ATEOM_READY_TIMEOUT_MS`, default 30 s). */
  readonly readyTimeoutMs: number;
  /**
   * How long a checkpoint waits for the sandbox's TCP connections to close before refusing with
   * FAILED_PRECONDITION (`ATEOM_CHECKPOINT_DRAIN_MS`, 0–60000, default 2000; 0 looks once).
   */
  readonly checkpointDrainMs: number;
  readonly logs: {
    /** Actor logs (`ATEOM_LOG_DIR`, default `<root>/logs`), read by atelet. */
    readonly dir: string;
    /** Size at which `actor.log` is rotated (`ATEOM_LOG_MAX_BYTES`, default 10 MiB). */
    readonly maxBytes: number;
    /** Rotated files kept, `actor.log.1` … (`ATEOM_LOG_MAX_FILES`, default 3). */
    readonly maxFiles: number;
  };
  readonly runsc: {
    /** The runsc binary when a request names none (`ATEOM_RUNSC_PATH`, default `runsc` on PATH). */
    readonly path: string;
    /**
     * `ATEOM_RUNSC_PROC_SYS_NET_WORKAROUND`: `auto` (default) turns the workaround on when
     * `/proc/sys/net/core/rmem_default` is visible inside the sandbox's network namespace, which makes
     * runsc 0.0~20240729 refuse it as the root namespace; `on` and `off` force it.
     */
    readonly procSysNetWorkaround: ProcSysNetWorkaroundMode;
  };
  /** Helper binaries (`ATEOM_IP`, `ATEOM_NFT`, `ATEOM_SYSCTL`, `ATEOM_UNSHARE`, `ATEOM_NSENTER`, `ATEOM_TAR`). */
  readonly tools: {
    readonly ip: string;
    readonly nft: string;
    readonly sysctl: string;
    readonly unshare: string;
    readonly nsenter: string;
    readonly tar: string;
  };
}

const WORKER = /^[a-z0-9][a-z0-9-]{0,9}$/;

export function loadAteomConfig(settings = new Settings()): AteomConfig {
  const worker = settings.string('ATEOM_WORKER', 'w0');
  if (!WORKER.test(worker)) {
    throw new ConfigError(
      'ATEOM_WORKER',
      `expected 1-10 characters of [a-z0-9-], got ${JSON.stringify(worker)}`,
    );
  }
  const root = settings.string('ATEOM_ROOT', '/var/lib/substrate');
  const workDir = join(root, 'workers', worker);
  const endpointIndex = settings.int('ATEOM_ENDPOINT_INDEX', -1, { min: 0, max: 8_191 });
  return {
    worker,
    root,
    actorsDir: join(root, 'actors'),
    workDir,
    socket: settings.string('ATEOM_SOCKET', join(workDir, 'ateom.sock')),
    ...(endpointIndex >= 0 && { endpointIndex }),
    readyTimeoutMs: settings.int('ATEOM_READY_TIMEOUT_MS', 30_000, { min: 1, max: 600_000 }),
    checkpointDrainMs: settings.int('ATEOM_CHECKPOINT_DRAIN_MS', 2_000, { min: 0, max: 60_000 }),
    logs: {
      dir: settings.string('ATEOM_LOG_DIR', join(root, 'logs')),
      maxBytes: settings.int('ATEOM_LOG_MAX_BYTES', 10 * 1024 * 1024, { min: 4_096 }),
      maxFiles: settings.int('ATEOM_LOG_MAX_FILES', 3, { min: 1, max: 100 }),
    },
    runsc: {
      path: settings.string('ATEOM_RUNSC_PATH', 'runsc'),
      procSysNetWorkaround: settings.oneOf<ProcSysNetWorkaroundMode>(
        'ATEOM_RUNSC_PROC_SYS_NET_WORKAROUND',
        ['auto', 'on', 'off'],
        'auto',
      ),
    },
    tools: {
      ip: settings.string('ATEOM_IP', 'ip'),
      nft: settings.string('ATEOM_NFT', 'nft'),
      sysctl: settings.string('ATEOM_SYSCTL', 'sysctl'),
      unshare: settings.string('ATEOM_UNSHARE', 'unshare'),
      nsenter: settings.string('ATEOM_NSENTER', 'nsenter'),
      tar: settings.string('ATEOM_TAR', 'tar'),
    },
  };
}
