import { randomUUID } from 'node:crypto';
import { ateapi } from '@substrate/proto';
import {
  ACTOR_CHANGES_CHANNEL,
  actorKey,
  actorPattern,
  ATESPACE_PREFIX,
  atespaceKey,
  keyParts,
  lockKey,
  WORKER_INDEX_BUILT_KEY,
  WORKER_INDEX_KEY,
  WORKER_PREFIX,
  workerKey,
} from './keys';
import type { RedisConnection } from './redis-connection';
import { ScriptFailure } from './scripts';
import { StoreError } from './store-error';
import { decodePageToken, encodePageToken } from './page-token';

/** A workflow's hold on an actor's lock; writes made with it are refused once the lock is lost. */
export interface LockHandle {
  readonly atespace: string;
  readonly actorId: string;
  readonly token: string;
}

/** One page of a paginated actor scan. */
export interface ActorPage {
  readonly actors: ateapi.Actor[];
  readonly nextPageToken: string;
}

/** A stored atespace and whether a delete is in progress on it. */
export interface StoredAtespace {
  readonly atespace: ateapi.Atespace;
  readonly version: number;
  readonly deleting: boolean;
}

/**
 * The control plane's records in Redis: actors, workers, atespaces and actor locks. Every write is a
 * compare-and-set on the record's version, made in one Lua script (standalone and cluster alike).
 * Records are the API protobufs; the version lives beside the data and is copied into it on read.
 */
/** Tuning of the {@link ControlStore}; the defaults suit production. */
export interface ControlStoreOptions {
  /** How long a worker index entry must lack its record before a listing prunes it (default 30 s). */
  readonly workerIndexPruneGraceMs?: number;
  /** How often a listing starts a background SCAN that adds unindexed workers (default 15 min). */
  readonly workerIndexReconcileMs?: number;
}

export class ControlStore {
  /** Whether this process has seen the worker index built (see {@link buildWorkerIndex}). */
  private workerIndexBuilt = false;
  private workerIndexReconciledAt = 0;
  private reconciling: Promise<void> | undefined;
  /** Index entries seen without a record, and since when (this process's clock). */
  private readonly missingSince = new Map<string, number>();
  private readonly options: Required<ControlStoreOptions>;

  constructor(
    private readonly connection: RedisConnection,
    options: ControlStoreOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = {
      workerIndexPruneGraceMs: options.workerIndexPruneGraceMs ?? 30_000,
      workerIndexReconcileMs: options.workerIndexReconcileMs ?? 15 * 60_000,
    };
  }

  private get redis() {
    return this.connection.client;
  }

  // ---- actors ---------------------------------------------------------------------------------

  async getActor(atespace: string, actorId: string): Promise<ateapi.Actor | undefined> {
    return this.readActor(actorKey(atespace, actorId), atespace, actorId);
  }

  /** Reads an actor record: a `<version>:<data>` string, or a {v, d} hash written by earlier versions. */
  private async readActor(key: string, atespace: string, actorId: string): Promise<ateapi.Actor | undefined> {
    let record: Buffer | null;
    try {
      record = await this.redis.getBuffer(key);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('WRONGTYPE'))) throw error;
      const [version, data] = await this.redis.hmgetBuffer(key, 'v', 'd');
      return version && data ? decodeActor(atespace, actorId, version, data) : undefined;
    }
    return record ? decodeActorRecord(atespace, actorId, record) : undefined;
  }

  /** Stores a new actor at version 1; `EXISTS` when one with that ref already exists. */
  async createActor(actor: ateapi.Actor): Promise<ateapi.Actor> {
    return this.putActor({ ...actor, version: 0 });
  }

  /**
   * Writes `actor` if the stored version still equals `actor.version` (0: must not exist), fenced by
   * `lock` when given (and releasing it when `releaseLock`). With `announceChange`, the same atomic step
   * also publishes the actor on {@link ACTOR_CHANGES_CHANNEL} (as {@link publishActorChange} does), so
   * the announcement costs no extra round trip and is made exactly when the write is. Returns the
   * stored actor (new version).
   */
  async putActor(
    actor: ateapi.Actor,
    lock?: LockHandle,
    releaseLock = false,
    announceChange = false,
  ): Promise<ateapi.Actor> {
    const stored = { ...actor, version: actor.version + 1 };
    const result = await this.redis.atePutActor(
      actorKey(actor.atespace, actor.actorId),
      lock ? lockKey(lock.atespace, lock.actorId) : actorKey(actor.atespace, actor.actorId),
      String(actor.version),
      encodeActorRecord(stored),
      lock?.token ?? '',
      releaseLock ? '1' : '0',
      announceChange ? ACTOR_CHANGES_CHANNEL : '',
      announceChange ? `${actor.atespace}/${actor.actorId}` : '',
    );
    checkWrite(result, `actor ${actor.atespace}/${actor.actorId}`);
    return stored;
  }

  /** Deletes an actor if its version is still `version`. */
  async deleteActor(atespace: string, actorId: string, version: number): Promise<void> {
    checkWrite(
      await this.redis.ateDelActor(actorKey(atespace, actorId), String(version)),
      `actor ${atespace}/${actorId}`,
    );
  }

  /**
   * Takes the actor's workflow lock and reads the actor in one step. `busy` when another workflow
   * holds it; undefined (and no lock taken) when the actor does not exist.
   */
  async lockActor(
    atespace: string,
    actorId: string,
    ttlMs: number,
  ): Promise<{ lock: LockHandle; actor: ateapi.Actor } | 'busy' | undefined> {
    const token = randomUUID();
    const result = await this.redis.ateLockAndGetBuffer(
      lockKey(atespace, actorId),
      actorKey(atespace, actorId),
      token,
      String(ttlMs),
    );
    if (result === ScriptFailure.Missing) return undefined;
    if (result === ScriptFailure.LockBusy) return 'busy';
    let actor: ateapi.Actor;
    if (Buffer.isBuffer(result)) actor = decodeActorRecord(atespace, actorId, result);
    else if (Array.isArray(result)) actor = decodeActor(atespace, actorId, result[0], result[1]);
    else throw new StoreError('CORRUPT', `unexpected lock result ${String(result)}`);
    return { lock: { atespace, actorId, token }, actor };
  }

  /** Releases a lock if it is still ours (a lost lock is not an error: its TTL ended it). */
  async unlockActor(lock: LockHandle): Promise<void> {
    await this.redis.ateUnlock(lockKey(lock.atespace, lock.actorId), lock.token);
  }

  /** Whether some workflow holds the actor's lock. */
  async isActorLocked(atespace: string, actorId: string): Promise<boolean> {
    return (await this.redis.exists(lockKey(atespace, actorId))) === 1;
  }

  /**
   * One page of actors, of one atespace or all, walking every master with SCAN. The token records the
   * master and its cursor; a page may be shorter or longer than `pageSize` (SCAN's COUNT is a hint).
   */
  async listActors(pageSize: number, pageToken: string, atespace?: string): Promise<ActorPage> {
    const masters = this.connection.masters();
    const start = decodePageToken(
      pageToken,
      masters.map((m) => m.address),
    );
    const actors: ateapi.Actor[] = [];
    let index = start.master;
    let cursor = start.cursor;
    while (index < masters.length) {
      const master = masters[index];
      if (!master) break;
      const [next, keys] = await master.node.scan(
        cursor,
        'MATCH',
        actorPattern(atespace),
        'COUNT',
        Math.max(pageSize - actors.length, 10),
      );
      const records = await Promise.all(
        keys.map(async (key) => {
          const parts = keyParts(key, 'a:');
          if (parts?.length !== 2) return undefined;
          return this.readActor(key, parts[0] ?? '', parts[1] ?? '');
        }),
      );
      for (const actor of records) if (actor) actors.push(actor);
      if (next !== '0') {
        cursor = next;
      } else {
        index += 1;
        cursor = '0';
      }
      if (actors.length >= pageSize) break;
    }
    const nextPageToken =
      index >= masters.length ? '' : encodePageToken(masters[index]?.address ?? '', cursor);
    return { actors, nextPageToken };
  }

  /** Announces that an actor stopped RUNNING (see {@link ACTOR_CHANGES_CHANNEL}). */
  async publishActorChange(atespace: string, actorId: string): Promise<void> {
    await this.redis.publish(ACTOR_CHANGES_CHANNEL, `${atespace}/${actorId}`);
  }

  // ---- workers --------------------------------------------------------------------------------

  async getWorker(namespace: string, pool: string, pod: string): Promise<ateapi.Worker | undefined> {
    return this.readWorker(workerKey(namespace, pool, pod));
  }

  /** Compare-and-set of a worker (version 0: create). Returns the stored worker. */
  async putWorker(worker: ateapi.Worker): Promise<ateapi.Worker> {
    const stored = { ...worker, version: worker.version + 1 };
    const key = workerKey(worker.workerNamespace, worker.workerPool, worker.workerPod);
    // A new worker enters the index first: a crash between the two leaves an entry without a record,
    // which listing ignores and prunes, never a record that listing cannot find.
    if (worker.version === 0) await this.redis.sadd(WORKER_INDEX_KEY, key);
    const result = await this.redis.atePut(
      key,
      key,
      String(worker.version),
      Buffer.from(ateapi.Worker.encode(stored).finish()),
      '',
      '0',
      '',
      '',
    );
    checkWrite(result, `worker ${worker.workerNamespace}/${worker.workerPool}/${worker.workerPod}`);
    return stored;
  }

  /**
   * Extends a worker's lease. The lease lives beside the versioned record, so renewing it never
   * conflicts with a claim. `MISSING` when the worker is gone.
   */
  async renewWorkerLease(worker: ateapi.Worker, expiresUnixMs: number): Promise<void> {
    const key = workerKey(worker.workerNamespace, worker.workerPool, worker.workerPod);
    const [renewed] = await Promise.all([
      this.redis.ateRenew(key, String(expiresUnixMs)),
      // Again on every renewal: puts back an entry a listing pruned while the worker was being created.
      this.redis.sadd(WORKER_INDEX_KEY, key),
    ]);
    checkWrite(renewed, `worker ${key}`);
  }

  private async readWorker(key: string): Promise<ateapi.Worker | undefined> {
    const [version, data, lease] = await this.redis.hmgetBuffer(key, 'v', 'd', 'e');
    if (!version || !data) return undefined;
    const worker = decodeWorker(version, data);
    return lease ? { ...worker, leaseExpiresUnixMs: Number(lease.toString()) } : worker;
  }

  /**
   * Deletes a worker if its version is still `version`. Its index entry stays until a listing prunes it: a
   * removal here could race another replica re-creating the worker and unlist the new record.
   */
  async deleteWorker(worker: ateapi.Worker): Promise<void> {
    const key = workerKey(worker.workerNamespace, worker.workerPool, worker.workerPod);
    checkWrite(await this.redis.ateDel(key, String(worker.version)), `worker ${key}`);
  }

  /**
   * Every worker record, read through the worker index (one SMEMBERS and one HMGET per worker, whatever
   * the number of actors). An entry whose record has been missing for the prune grace period (a deleted
   * worker) is pruned; the grace leaves creates in flight alone (their entry is written before their
   * record). A slow periodic SCAN adds records the index lacks (written by a replica older than the index,
   * or index writes lost in a Redis failover); it runs in the background.
   */
  async listWorkers(): Promise<ateapi.Worker[]> {
    await this.buildWorkerIndex();
    this.reconcileWorkerIndexWhenDue();
    const keys = await this.redis.smembers(WORKER_INDEX_KEY);
    const workers = await Promise.all(keys.map((key) => this.readWorker(key)));
    await this.pruneWorkerIndex(keys.filter((_key, i) => workers[i] === undefined));
    return workers.filter((w): w is ateapi.Worker => w !== undefined);
  }

  /** Prunes the entries missing for the grace period; an entry whose record has appeared is kept. */
  private async pruneWorkerIndex(missing: readonly string[]): Promise<void> {
    const now = this.now();
    const seen = new Set(missing);
    for (const key of this.missingSince.keys()) if (!seen.has(key)) this.missingSince.delete(key);
    const due: string[] = [];
    for (const key of missing) {
      const since = this.missingSince.get(key);
      if (since === undefined) this.missingSince.set(key, now);
      if (now - (since ?? now) >= this.options.workerIndexPruneGraceMs) due.push(key);
    }
    if (due.length === 0) return;
    await this.redis.srem(WORKER_INDEX_KEY, ...due);
    for (const key of due) this.missingSince.delete(key);
    // A create may have written its record since the read: put its entry back.
    const back = await Promise.all(due.map((key) => this.redis.exists(key)));
    const revived = due.filter((_key, i) => back[i] === 1);
    if (revived.length > 0) await this.redis.sadd(WORKER_INDEX_KEY, ...revived);
  }

  /**
   * Once per Redis deployment: indexes the workers written before the index existed (a SCAN of every
   * master), then marks the index built. Idempotent; concurrent callers may both scan.
   */
  private async buildWorkerIndex(): Promise<void> {
    if (this.workerIndexBuilt) return;
    if ((await this.redis.exists(WORKER_INDEX_BUILT_KEY)) === 0) {
      await this.indexAllWorkers();
      await this.redis.set(WORKER_INDEX_BUILT_KEY, '1');
    }
    this.workerIndexBuilt = true;
    this.workerIndexReconciledAt = this.now();
  }

  private reconcileWorkerIndexWhenDue(): void {
    if (this.reconciling || this.now() - this.workerIndexReconciledAt < this.options.workerIndexReconcileMs) {
      return;
    }
    this.reconciling = this.indexAllWorkers()
      .catch(() => undefined) // tried again when next due
      .finally(() => {
        this.workerIndexReconciledAt = this.now();
        this.reconciling = undefined;
      });
  }

  /** Waits for a background reconciliation in progress (for tests; a failed one is retried when next due). */
  async settleWorkerIndex(): Promise<void> {
    await this.reconciling;
  }

  private async indexAllWorkers(): Promise<void> {
    const keys = await this.scanAll(`${WORKER_PREFIX}*`);
    if (keys.length > 0) await this.redis.sadd(WORKER_INDEX_KEY, ...keys);
  }

  // ---- atespaces ------------------------------------------------------------------------------

  async getAtespace(name: string): Promise<StoredAtespace | undefined> {
    const [version, data, deleting] = await this.redis.hmgetBuffer(atespaceKey(name), 'v', 'd', 'x');
    if (!version || !data) return undefined;
    return {
      atespace: ateapi.Atespace.decode(data),
      version: Number(version.toString()),
      deleting: deleting?.toString() === '1',
    };
  }

  /** Creates an atespace; `EXISTS` when it exists. */
  async createAtespace(name: string): Promise<void> {
    const result = await this.redis.atePut(
      atespaceKey(name),
      atespaceKey(name),
      '0',
      Buffer.from(ateapi.Atespace.encode({ name }).finish()),
      '',
      '0',
      '',
      '',
    );
    checkWrite(result, `atespace ${name}`);
  }

  /** Marks or unmarks an atespace as being deleted (CreateActor refuses it while marked). */
  async markAtespaceDeleting(name: string, deleting: boolean): Promise<void> {
    if (deleting) await this.redis.hset(atespaceKey(name), 'x', '1');
    else await this.redis.hdel(atespaceKey(name), 'x');
  }

  async deleteAtespace(name: string): Promise<void> {
    await this.redis.del(atespaceKey(name));
  }

  async listAtespaces(): Promise<ateapi.Atespace[]> {
    const keys = await this.scanAll(`${ATESPACE_PREFIX}*`);
    const names = keys.map((key) => keyParts(key, ATESPACE_PREFIX)?.[0]).filter((n): n is string => !!n);
    const stored = await Promise.all(names.map((name) => this.getAtespace(name)));
    return stored.filter((s): s is StoredAtespace => s !== undefined).map((s) => s.atespace);
  }

  /** Whether an atespace holds at least one actor. */
  async atespaceHasActors(name: string): Promise<boolean> {
    for (const { node } of this.connection.masters()) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', actorPattern(name), 'COUNT', 1000);
        if (keys.length > 0) return true;
        cursor = next;
      } while (cursor !== '0');
    }
    return false;
  }

  // ---- administration -------------------------------------------------------------------------

  /** Erases every key on every master (DebugClear). */
  async flushAll(): Promise<void> {
    await Promise.all(this.connection.masters().map(({ node }) => node.flushall('ASYNC')));
  }

  private async scanAll(pattern: string): Promise<string[]> {
    const all: string[] = [];
    for (const { node } of this.connection.masters()) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        all.push(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    return all;
  }
}

function checkWrite(result: number, what: string): void {
  switch (result) {
    case ScriptFailure.Missing:
      throw new StoreError('MISSING', `${what} does not exist`);
    case ScriptFailure.VersionMismatch:
      throw new StoreError('CONFLICT', `${what} changed concurrently`);
    case ScriptFailure.LockLost:
      throw new StoreError('LOCK_LOST', `the lock on ${what} was lost`);
    case ScriptFailure.Exists:
      throw new StoreError('EXISTS', `${what} already exists`);
    default:
      if (result < 1) throw new StoreError('CORRUPT', `unexpected store result ${result} for ${what}`);
  }
}

const COLON = 0x3a;

/** An actor's stored record: `<version>:<ateapi.Actor protobuf>` (see PUT_ACTOR in scripts.ts). */
function encodeActorRecord(actor: ateapi.Actor): Buffer {
  const data = ateapi.Actor.encode(actor).finish();
  const head = `${actor.version}:`;
  const record = Buffer.allocUnsafe(head.length + data.length);
  record.write(head, 0, 'latin1');
  record.set(data, head.length);
  return record;
}

function decodeActorRecord(atespace: string, actorId: string, record: Buffer): ateapi.Actor {
  const colon = record.indexOf(COLON);
  if (colon < 1 || colon > 20) {
    throw new StoreError('CORRUPT', `stored actor ${atespace}/${actorId} has no version`);
  }
  return decodeActor(atespace, actorId, record.subarray(0, colon), record.subarray(colon + 1));
}

function decodeActor(atespace: string, actorId: string, version: Buffer, data: Buffer): ateapi.Actor {
  let actor: ateapi.Actor;
  try {
    actor = ateapi.Actor.decode(data);
  } catch (error) {
    throw new StoreError('CORRUPT', `stored actor ${atespace}/${actorId} cannot be decoded`, {
      cause: error,
    });
  }
  if (actor.actorId !== actorId || actor.atespace !== atespace) {
    throw new StoreError(
      'CORRUPT',
      `(impossible) mismatch: key ${atespace}/${actorId} holds actor ${actor.atespace}/${actor.actorId}`,
    );
  }
  return { ...actor, version: Number(version.toString()) };
}

function decodeWorker(version: Buffer, data: Buffer): ateapi.Worker {
  try {
    return { ...ateapi.Worker.decode(data), version: Number(version.toString()) };
  } catch (error) {
    throw new StoreError('CORRUPT', 'stored worker cannot be decoded', { cause: error });
  }
}
