import type { FakeReportWorkersResponse, FakeWorkerRegistration } from './proto';

/** The three RPCs of `atelet.AteomHerder`, by their generated (lowerCamelCase) names. */
export type FakeAteletMethod = 'run' | 'restore' | 'checkpoint';

/** All RPCs of `atelet.AteomHerder`. */
export const FAKE_ATELET_METHODS: readonly FakeAteletMethod[] = ['run', 'restore', 'checkpoint'];

/**
 * A fault to inject: the next `count` calls that match `method`, `actor` and `workerUid` are delayed by
 * `delayMs` and then, when `code` is set, fail with that gRPC status code and `message`. Without `code`
 * the call is only delayed and then served normally (use a delay beyond the caller's deadline to make it
 * time out).
 */
export interface FakeAteletFault {
  /** Which RPC; `'*'` (the default) matches every RPC. */
  readonly method?: FakeAteletMethod | '*';
  /** Only calls for this actor, written `<atespace>/<actor_id>`. */
  readonly actor?: string;
  /** Only calls that target this worker (`target_ateom_uid`). */
  readonly workerUid?: string;
  /** How many matching calls the fault applies to (default 1); `'always'` until the faults are cleared. */
  readonly count?: number | 'always';
  /** The gRPC status code to fail with (e.g. `status.UNAVAILABLE`); absent: only delay. */
  readonly code?: number;
  /** The status message the caller sees (default `injected fault`). */
  readonly message?: string;
  /** Delay before the call answers (default: the configured latency). */
  readonly delayMs?: number;
}

/** One call the fake atelet received, in arrival order. */
export interface FakeAteletCall {
  /** 1-based arrival number. */
  readonly seq: number;
  readonly method: FakeAteletMethod;
  /** `target_ateom_uid`. */
  readonly workerUid: string;
  /** `<actor_atespace>/<actor_id>`. */
  readonly actor: string;
  /** `<actor_template_namespace>/<actor_template_name>`. */
  readonly template: string;
  /** Checkpoint / Restore: the snapshot prefix or URI prefix of the request's config; else undefined. */
  readonly snapshot: string | undefined;
  /** The gRPC status code answered (0 = OK); undefined while the call is still in flight. */
  readonly code: number | undefined;
  /** The status message answered (empty on success). */
  readonly message: string;
}

/** What the fake atelet believes a worker holds. */
export interface FakeWorkerState {
  /** `target_ateom_uid`. */
  readonly uid: string;
  /** The loaded actor, `<atespace>/<actor_id>`, or undefined when the worker holds none. */
  readonly actor: string | undefined;
  /** `<actor_template_namespace>/<actor_template_name>` of the loaded actor. */
  readonly template: string | undefined;
  /** Successful Run + Restore calls on this worker so far. */
  readonly loads: number;
  /** Successful Checkpoint calls on this worker so far. */
  readonly checkpoints: number;
}

/**
 * A request that named a different actor than the one its worker holds (Run / Restore onto an occupied
 * worker, or Checkpoint of another actor): evidence that the control plane assigned one worker to two
 * actors. A Checkpoint of an empty worker fails too, but is not a violation.
 */
export interface FakeAteletViolation {
  readonly seq: number;
  readonly method: FakeAteletMethod;
  readonly workerUid: string;
  /** The actor the worker held. */
  readonly held: string;
  /** The actor the request named. */
  readonly requested: string;
  /**
   * True when a call for the held actor was still in progress on the worker: the two assignments
   * overlapped in time, which no crash recovery explains. False when the worker merely still held an
   * actor the control plane had released (e.g. after recovering a crashed workflow).
   */
  readonly concurrent: boolean;
}

/** Per-method counts of answered calls by gRPC code (cheap to read even with the call log disabled). */
export type FakeAteletStats = Record<FakeAteletMethod, Record<string, number>>;

/** Registration of fake workers with ateapi's `ateapi.WorkerRegistry/ReportWorkers`. */
export interface FakeAteletRegistration {
  /** ateapi's gRPC address, `host:port` (plaintext). */
  readonly ateapiAddress: string;
  /** `node_name` of the reports (default `fake-node`). */
  readonly nodeName?: string;
  /** `lease_seconds` asked for (default 15; 0 = the server's default). */
  readonly leaseSeconds?: number;
  /**
   * How often to report, in ms (default: a third of the lease ateapi granted, or of `leaseSeconds`
   * before the first answer).
   */
  readonly periodMs?: number;
  /** The workers of the node; see {@link fakeWorkerRegistrations}. */
  readonly workers: readonly FakeWorkerRegistration[];
  /** `authorization` metadata sent with each report (e.g. `Bearer <token>`). */
  readonly authorization?: string;
  /** Start without reporting until {@link FakeAteletControl.setRegistration} unpauses it. */
  readonly paused?: boolean;
}

/** The state of the registration loop. */
export interface FakeAteletRegistrationStatus {
  readonly enabled: boolean;
  readonly paused: boolean;
  /** Reports ateapi answered OK. */
  readonly reports: number;
  /** Reports that failed. */
  readonly failures: number;
  /** The last failure's message, cleared by a successful report. */
  readonly lastError: string | undefined;
  /** The last successful answer. */
  readonly lastResponse: FakeReportWorkersResponse | undefined;
  readonly workers: readonly FakeWorkerRegistration[];
}

/** Behaviour of a fake atelet; every field is optional. */
export interface FakeAteletOptions {
  /** gRPC port on 127.0.0.1 (default: a free one). Give the old port to restart an atelet "in place". */
  readonly port?: number;
  /** Answer latency of successful calls, uniform in [min, max] ms (default [0, 1]). */
  readonly latencyMs?: readonly [min: number, max: number];
  /** Apply atelet's request validation (INVALID_ARGUMENT), as docs/protocol.md lists it (default true). */
  readonly validate?: boolean;
  /**
   * Answer FAILED_PRECONDITION when Run / Restore targets a worker that holds a different actor (default
   * true). When false such a call replaces the actor, but it is still recorded as a violation.
   */
  readonly rejectBusyWorker?: boolean;
  /**
   * The workers this atelet drives. When this list (plus the registered workers) is non-empty, a call for
   * any other `target_ateom_uid` answers NOT_FOUND `ateom <uid> not found`. Default: any uid is accepted.
   */
  readonly workerUids?: readonly string[];
  /** The file names Checkpoint reports (default `FAKE_SNAPSHOT_FILES`). */
  readonly snapshotFiles?: readonly string[];
  /** How many calls the log keeps, newest last (default 100,000; 0 disables the log, not the stats). */
  readonly callLogLimit?: number;
  /** Register workers with ateapi periodically (off by default). */
  readonly registration?: FakeAteletRegistration;
}

/** What Checkpoint reports as `snapshot_files` unless configured otherwise. */
export const FAKE_SNAPSHOT_FILES: readonly string[] = [
  'checkpoint.img',
  'pages-meta.img',
  'pages.img',
  'rootfs.tar',
];

/** The options the server process receives (JSON on its command line). */
export interface FakeAteletServerConfig extends FakeAteletOptions {
  readonly host: string;
}

/** The line the server prints on stdout once it serves: this prefix, then JSON {@link FakeAteletReady}. */
export const FAKE_ATELET_READY_PREFIX = 'FAKE_ATELET_READY ';

/** Where a started fake atelet listens. */
export interface FakeAteletReady {
  readonly grpcPort: number;
  readonly controlPort: number;
}

/**
 * N worker registrations for one pool, numbered from 0: pod `<pool>-<i>`, uid `<uidPrefix><i>`, all on
 * `ip` with HTTP ports `firstHttpPort + i` (or 0 = port 80 when `firstHttpPort` is not given).
 */
export function fakeWorkerRegistrations(
  count: number,
  options: {
    namespace?: string;
    pool?: string;
    ip?: string;
    firstHttpPort?: number;
    uidPrefix?: string;
  } = {},
): FakeWorkerRegistration[] {
  const {
    namespace = 'default',
    pool = 'pool',
    ip = '127.0.0.1',
    firstHttpPort,
    uidPrefix = `${pool}-uid-`,
  } = options;
  return Array.from({ length: count }, (_, i) => ({
    workerNamespace: namespace,
    workerPool: pool,
    workerPod: `${pool}-${i}`,
    ip,
    workerPodUid: `${uidPrefix}${i}`,
    httpPort: firstHttpPort === undefined ? 0 : firstHttpPort + i,
  }));
}
