import { Cluster, Redis, type ClusterNode } from 'ioredis';
import { DEL, DEL_ACTOR, LOCK_AND_GET, PUT, PUT_ACTOR, RENEW, UNLOCK } from './scripts';

/** Where the state store is: one standalone server, or the seed nodes of a Redis Cluster. */
export type RedisTarget =
  | { readonly mode: 'standalone'; readonly url: string }
  | { readonly mode: 'cluster'; readonly seeds: readonly string[] };

/** Our Lua commands as ioredis defines them (each also has a `…Buffer` variant returning Buffers). */
interface StoreCommands {
  atePut(
    record: string,
    lock: string,
    expected: string,
    data: Buffer,
    token: string,
    release: string,
    channel: string,
    message: string,
  ): Promise<number>;
  ateDel(record: string, expected: string): Promise<number>;
  atePutActor(
    actor: string,
    lock: string,
    expected: string,
    record: Buffer,
    token: string,
    release: string,
    channel: string,
    message: string,
  ): Promise<number>;
  ateDelActor(actor: string, expected: string): Promise<number>;
  ateLockAndGetBuffer(
    lock: string,
    actor: string,
    token: string,
    ttlMs: string,
  ): Promise<number | Buffer | [Buffer, Buffer]>;
  ateUnlock(lock: string, token: string): Promise<number>;
  ateRenew(worker: string, expiresMs: string): Promise<number>;
}

/** An ioredis client (standalone or cluster) with the store's scripts defined. */
export type StoreRedis = (Redis | Cluster) & StoreCommands;

/** A Redis connection for the state store: the client plus what a store needs to walk every master. */
export class RedisConnection {
  readonly client: StoreRedis;

  constructor(readonly target: RedisTarget) {
    const common = {
      enableAutoPipelining: true,
      lazyConnect: true,
      maxRetriesPerRequest: 3,
    } as const;
    const client =
      target.mode === 'standalone'
        ? new Redis(target.url, { ...common, connectionName: 'ateapi' })
        : new Cluster(target.seeds.map(parseSeed), {
            enableAutoPipelining: true,
            lazyConnect: true,
            redisOptions: { maxRetriesPerRequest: 3, connectionName: 'ateapi' },
          });
    client.defineCommand('atePut', { numberOfKeys: 2, lua: PUT });
    client.defineCommand('ateDel', { numberOfKeys: 1, lua: DEL });
    client.defineCommand('atePutActor', { numberOfKeys: 2, lua: PUT_ACTOR });
    client.defineCommand('ateDelActor', { numberOfKeys: 1, lua: DEL_ACTOR });
    client.defineCommand('ateLockAndGet', { numberOfKeys: 2, lua: LOCK_AND_GET });
    client.defineCommand('ateUnlock', { numberOfKeys: 1, lua: UNLOCK });
    client.defineCommand('ateRenew', { numberOfKeys: 1, lua: RENEW });
    this.client = client as StoreRedis;
  }

  /**
   * Connects and checks the server answers PING, retrying (`attempts` × `intervalMs`) so ateapi can
   * start before Redis; throws the last error when it never does.
   */
  async connect({ attempts = 30, intervalMs = 1000 } = {}): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        if (this.client.status === 'wait' || this.client.status === 'end') await this.client.connect();
        await this.client.ping();
        return;
      } catch (error) {
        lastError = error;
        if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    }
    throw new Error(`cannot reach Redis at ${describeTarget(this.target)}: ${messageOf(lastError)}`, {
      cause: lastError,
    });
  }

  /** The master nodes, sorted by address (a stable order for paginated scans). */
  masters(): { address: string; node: Redis }[] {
    if (this.client instanceof Cluster) {
      return this.client
        .nodes('master')
        .map((node) => ({ address: `${node.options.host ?? ''}:${node.options.port ?? 0}`, node }))
        .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    }
    const node = this.client as Redis;
    return [{ address: `${node.options.host ?? ''}:${node.options.port ?? 0}`, node }];
  }

  async close(): Promise<void> {
    if (this.client.status === 'end') return;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}

function parseSeed(seed: string): ClusterNode {
  const index = seed.lastIndexOf(':');
  return { host: seed.slice(0, index).replace(/^\[|\]$/g, ''), port: Number(seed.slice(index + 1)) };
}

export function describeTarget(target: RedisTarget): string {
  return target.mode === 'standalone' ? target.url : `cluster ${target.seeds.join(',')}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
