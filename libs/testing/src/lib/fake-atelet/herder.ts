import { status } from '@grpc/grpc-js';
import {
  type AteletRequest,
  CHECKPOINT_TYPE_EXTERNAL,
  CHECKPOINT_TYPE_LOCAL,
  SNAPSHOT_SCOPE_DATA,
  SNAPSHOT_SCOPE_FULL,
} from './proto';
import {
  FAKE_ATELET_METHODS,
  FAKE_SNAPSHOT_FILES,
  type FakeAteletCall,
  type FakeAteletFault,
  type FakeAteletMethod,
  type FakeAteletOptions,
  type FakeAteletStats,
  type FakeAteletViolation,
  type FakeWorkerState,
} from './types';

/** A gRPC status the fake atelet answers with. */
export class FakeAteletStatus extends Error {
  override readonly name = 'FakeAteletStatus';

  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface ActiveFault {
  readonly fault: FakeAteletFault;
  remaining: number;
}

interface MutableWorker {
  actor: string | undefined;
  template: string | undefined;
  loads: number;
  checkpoints: number;
}

type MutableCall = {
  -readonly [K in keyof FakeAteletCall]: FakeAteletCall[K];
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && DNS_SUBDOMAIN.test(value);
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));

/**
 * The behaviour of the fake atelet, without transport: validates a request like atelet does, applies
 * injected faults and latency, and tracks which actor each worker holds. The server process wraps it in
 * a gRPC server; unit tests drive it directly.
 */
export class FakeHerder {
  private readonly workers = new Map<string, MutableWorker>();
  /** Per worker: calls in progress per actor (between their checks and their answer). */
  private readonly inFlight = new Map<string, Map<string, number>>();
  private readonly knownWorkers = new Set<string>();
  private faults: ActiveFault[] = [];
  private log: MutableCall[] = [];
  private violationLog: FakeAteletViolation[] = [];
  private counts: FakeAteletStats = emptyStats();
  private seq = 0;
  private latency: Partial<Record<FakeAteletMethod, readonly [number, number]>> = {};
  private readonly defaultLatency: readonly [number, number];
  private readonly validate: boolean;
  private readonly rejectBusyWorker: boolean;
  private readonly snapshotFiles: readonly string[];
  private readonly callLogLimit: number;

  constructor(
    options: FakeAteletOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.defaultLatency = checkLatency(options.latencyMs ?? [0, 1]);
    this.validate = options.validate ?? true;
    this.rejectBusyWorker = options.rejectBusyWorker ?? true;
    this.snapshotFiles = options.snapshotFiles ?? FAKE_SNAPSHOT_FILES;
    this.callLogLimit = options.callLogLimit ?? 100_000;
    this.addKnownWorkers(options.workerUids ?? []);
  }

  /** Workers this atelet drives; once any is known, calls for other uids answer NOT_FOUND. */
  addKnownWorkers(uids: Iterable<string>): void {
    for (const uid of uids) this.knownWorkers.add(uid);
  }

  /** Serves one call: resolves with the response or rejects with a {@link FakeAteletStatus}. */
  async handle(method: FakeAteletMethod, request: AteletRequest): Promise<{ snapshotFiles?: string[] }> {
    const call = this.record(method, request);
    try {
      const response = await this.serve(method, request, call);
      this.finish(call, status.OK, '');
      return response;
    } catch (error) {
      const failure =
        error instanceof FakeAteletStatus ? error : new FakeAteletStatus(status.INTERNAL, String(error));
      this.finish(call, failure.code, failure.message);
      throw failure;
    }
  }

  private async serve(
    method: FakeAteletMethod,
    request: AteletRequest,
    call: FakeAteletCall,
  ): Promise<{ snapshotFiles?: string[] }> {
    if (this.validate) validateRequest(method, request);
    const fault = this.takeFault(method, call);
    const delayMs = fault?.delayMs ?? this.pickLatency(method);
    if (fault?.code !== undefined) {
      await sleep(delayMs);
      throw new FakeAteletStatus(fault.code, fault.message ?? 'injected fault');
    }
    const uid = request.targetAteomUid;
    if (this.knownWorkers.size > 0 && !this.knownWorkers.has(uid)) {
      throw new FakeAteletStatus(status.NOT_FOUND, `ateom ${uid} not found`);
    }
    const worker = this.worker(uid);
    return this.operate(method, call, worker, delayMs);
  }

  private async operate(
    method: FakeAteletMethod,
    call: FakeAteletCall,
    worker: MutableWorker,
    delayMs: number,
  ): Promise<{ snapshotFiles?: string[] }> {
    const uid = call.workerUid;
    if (method === 'checkpoint') {
      if (worker.actor !== call.actor) {
        if (worker.actor !== undefined) this.violation(call, worker.actor);
        throw new FakeAteletStatus(
          status.FAILED_PRECONDITION,
          worker.actor === undefined
            ? `ateom ${uid} holds no actor`
            : `ateom ${uid} holds actor ${worker.actor}, not ${call.actor}`,
        );
      }
      await this.busy(call, delayMs);
      // Checkpointing tears the sandbox down: the worker is empty afterwards (unless the control plane
      // already put another actor on it, which the check above reports as a violation).
      if (worker.actor === call.actor) {
        worker.actor = undefined;
        worker.template = undefined;
      }
      worker.checkpoints += 1;
      return { snapshotFiles: [...this.snapshotFiles] };
    }
    if (worker.actor !== undefined && worker.actor !== call.actor) {
      this.violation(call, worker.actor);
      if (this.rejectBusyWorker) {
        throw new FakeAteletStatus(
          status.FAILED_PRECONDITION,
          `ateom ${uid} already holds actor ${worker.actor}, cannot load ${call.actor}`,
        );
      }
    }
    worker.actor = call.actor;
    worker.template = call.template;
    await this.busy(call, delayMs);
    worker.loads += 1;
    return {};
  }

  /** Waits `delayMs` while the call counts as in flight on its worker. */
  private async busy(call: FakeAteletCall, delayMs: number): Promise<void> {
    let actors = this.inFlight.get(call.workerUid);
    if (actors === undefined) {
      actors = new Map();
      this.inFlight.set(call.workerUid, actors);
    }
    actors.set(call.actor, (actors.get(call.actor) ?? 0) + 1);
    try {
      await sleep(delayMs);
    } finally {
      const left = (actors.get(call.actor) ?? 1) - 1;
      if (left > 0) actors.set(call.actor, left);
      else actors.delete(call.actor);
      if (actors.size === 0) this.inFlight.delete(call.workerUid);
    }
  }

  /** Adds a fault; see {@link FakeAteletFault}. */
  addFault(fault: FakeAteletFault): void {
    if (fault.code === undefined && fault.delayMs === undefined) {
      throw new Error('a fault needs a code, a delayMs, or both');
    }
    if (fault.method !== undefined && fault.method !== '*' && !FAKE_ATELET_METHODS.includes(fault.method)) {
      throw new Error(`unknown method ${JSON.stringify(fault.method)}`);
    }
    const count = fault.count ?? 1;
    if (count !== 'always' && (!Number.isInteger(count) || count < 1)) {
      throw new Error(`count must be a positive integer or "always", got ${JSON.stringify(count)}`);
    }
    this.faults.push({ fault, remaining: count === 'always' ? Infinity : count });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Sets the latency of successful calls of one method, or of all. */
  setLatency(latencyMs: readonly [number, number], method?: FakeAteletMethod): void {
    const checked = checkLatency(latencyMs);
    for (const m of method === undefined ? FAKE_ATELET_METHODS : [method]) this.latency[m] = checked;
  }

  /** Forgets what a worker holds (all workers when `uid` is undefined), as if it had been restarted. */
  clearWorkers(uid?: string): void {
    if (uid === undefined) this.workers.clear();
    else this.workers.delete(uid);
  }

  /** Back to the initial state: no calls (numbering restarts at 1), faults, violations, loaded actors or latency overrides. */
  reset(): void {
    this.workers.clear();
    this.inFlight.clear();
    this.faults = [];
    this.log = [];
    this.violationLog = [];
    this.counts = emptyStats();
    this.latency = {};
    this.seq = 0;
  }

  calls(): FakeAteletCall[] {
    return this.log.slice(-this.callLogLimit).map((call) => ({ ...call }));
  }

  violations(): FakeAteletViolation[] {
    return [...this.violationLog];
  }

  stats(): FakeAteletStats {
    return JSON.parse(JSON.stringify(this.counts)) as FakeAteletStats;
  }

  workerStates(): FakeWorkerState[] {
    return [...this.workers.entries()]
      .map(([uid, worker]) => ({ uid, ...worker }))
      .sort((a, b) => a.uid.localeCompare(b.uid));
  }

  private worker(uid: string): MutableWorker {
    let worker = this.workers.get(uid);
    if (worker === undefined) {
      worker = { actor: undefined, template: undefined, loads: 0, checkpoints: 0 };
      this.workers.set(uid, worker);
    }
    return worker;
  }

  private record(method: FakeAteletMethod, request: AteletRequest): MutableCall {
    this.seq += 1;
    const call: MutableCall = {
      seq: this.seq,
      method,
      workerUid: request.targetAteomUid,
      actor: `${request.actorAtespace}/${request.actorId}`,
      template: `${request.actorTemplateNamespace}/${request.actorTemplateName}`,
      snapshot: request.externalConfig?.snapshotUriPrefix ?? request.localConfig?.snapshotPrefix ?? undefined,
      code: undefined,
      message: '',
    };
    if (this.callLogLimit > 0) {
      this.log.push(call);
      // Trimmed in batches, so a full log costs O(1) per call.
      if (this.log.length >= 2 * this.callLogLimit) this.log = this.log.slice(-this.callLogLimit);
    }
    return call;
  }

  private finish(call: MutableCall, code: number, message: string): void {
    call.code = code;
    call.message = message;
    const perCode = this.counts[call.method];
    const name = status[code] ?? String(code);
    perCode[name] = (perCode[name] ?? 0) + 1;
  }

  private violation(call: FakeAteletCall, held: string): void {
    this.violationLog.push({
      seq: call.seq,
      method: call.method,
      workerUid: call.workerUid,
      held,
      requested: call.actor,
      concurrent: (this.inFlight.get(call.workerUid)?.get(held) ?? 0) > 0,
    });
  }

  private takeFault(method: FakeAteletMethod, call: FakeAteletCall): FakeAteletFault | undefined {
    const index = this.faults.findIndex(
      ({ fault }) =>
        (fault.method === undefined || fault.method === '*' || fault.method === method) &&
        (fault.actor === undefined || fault.actor === call.actor) &&
        (fault.workerUid === undefined || fault.workerUid === call.workerUid),
    );
    const active = this.faults[index];
    if (active === undefined) return undefined;
    active.remaining -= 1;
    if (active.remaining <= 0) this.faults.splice(index, 1);
    return active.fault;
  }

  private pickLatency(method: FakeAteletMethod): number {
    const [min, max] = this.latency[method] ?? this.defaultLatency;
    return min + (max - min) * this.random();
  }
}

function emptyStats(): FakeAteletStats {
  return { run: {}, restore: {}, checkpoint: {} };
}

function checkLatency(latency: readonly [number, number]): readonly [number, number] {
  const [min, max] = latency;
  if (!(min >= 0 && max >= min && Number.isFinite(max))) {
    throw new Error(`latency must be [min, max] with 0 <= min <= max, got ${JSON.stringify(latency)}`);
  }
  return [min, max];
}

function invalid(message: string): FakeAteletStatus {
  return new FakeAteletStatus(status.INVALID_ARGUMENT, message);
}

/** atelet's request checks (docs/protocol.md): INVALID_ARGUMENT with the first problem found. */
export function validateRequest(method: FakeAteletMethod, request: AteletRequest): void {
  const { actorTemplateNamespace: ns, actorTemplateName: name, actorId, targetAteomUid } = request;
  if (!isDnsLabel(ns)) {
    throw invalid(`invalid actor_template_namespace ${JSON.stringify(ns)}: must be a DNS-1123 label`);
  }
  if (!isDnsSubdomain(name)) {
    throw invalid(`invalid actor_template_name ${JSON.stringify(name)}: must be a DNS-1123 subdomain`);
  }
  if (!isDnsLabel(actorId)) {
    throw invalid(`invalid actor_id ${JSON.stringify(actorId)}: must be a DNS-1123 label`);
  }
  if (request.actorAtespace !== '' && !isDnsLabel(request.actorAtespace)) {
    throw invalid(
      `invalid actor_atespace ${JSON.stringify(request.actorAtespace)}: must be a DNS-1123 label`,
    );
  }
  if (Buffer.byteLength(`${ns}:${name}:${actorId}`) > 255) {
    throw invalid('actor_template_namespace:actor_template_name:actor_id must be at most 255 bytes');
  }
  if (!isDnsLabel(targetAteomUid)) {
    throw invalid(`invalid target_ateom_uid ${JSON.stringify(targetAteomUid)}: must be a DNS-1123 label`);
  }
  const names = new Set<string>();
  for (const container of request.spec?.containers ?? []) {
    if (!isDnsLabel(container.name)) {
      throw invalid(`invalid container name ${JSON.stringify(container.name)}: must be a DNS-1123 label`);
    }
    if (container.name === 'pause') throw invalid('container name "pause" is reserved');
    if (names.has(container.name))
      throw invalid(`duplicate container name ${JSON.stringify(container.name)}`);
    names.add(container.name);
  }
  if (method === 'run') return;
  if (request.scope !== SNAPSHOT_SCOPE_FULL && request.scope !== SNAPSHOT_SCOPE_DATA) {
    throw invalid('scope must be SNAPSHOT_SCOPE_FULL or SNAPSHOT_SCOPE_DATA');
  }
  const { type, externalConfig, localConfig } = request;
  if (type === CHECKPOINT_TYPE_EXTERNAL) {
    if (!externalConfig) throw invalid('an EXTERNAL checkpoint needs external_config');
    checkExternalPrefix(externalConfig.snapshotUriPrefix);
  } else if (type === CHECKPOINT_TYPE_LOCAL) {
    if (!localConfig || localConfig.snapshotPrefix === '') {
      throw invalid('a LOCAL checkpoint needs a non-empty local_config.snapshot_prefix');
    }
  } else {
    throw invalid('type must be CHECKPOINT_TYPE_LOCAL or CHECKPOINT_TYPE_EXTERNAL');
  }
}

function checkExternalPrefix(prefix: string): void {
  let url: URL;
  try {
    url = new URL(prefix);
  } catch {
    throw invalid(`invalid snapshot_uri_prefix ${JSON.stringify(prefix)}: not a URI`);
  }
  // file:// URIs (local mode's object store) have no host; anything else needs one.
  if (url.host === '' && url.protocol !== 'file:') {
    throw invalid(`invalid snapshot_uri_prefix ${JSON.stringify(prefix)}: no host`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw invalid(
      `invalid snapshot_uri_prefix ${JSON.stringify(prefix)}: must have no user info, query or fragment`,
    );
  }
}
