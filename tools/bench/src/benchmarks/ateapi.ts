// The `ateapi` benchmark (issue 3): control-plane throughput and latency of ateapi running as its own
// process against its own redis-server and a fake atelet process (answers at once) that registers 256
// workers of one pool. A load generator in this process drives CreateActor, then resume+suspend cycles
// over raw generated gRPC clients; then the Redis memory of 100,000 suspended actors is measured, and
// `redis-benchmark` GET/SET against the same redis-server gives the reference ceiling.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { Redis } from 'ioredis';

import { type ActorTemplate } from '@substrate/api';
import { ateapi } from '@substrate/proto';
import {
  fakeWorkerRegistrations,
  type FakeAtelet,
  freePorts,
  ManagedProcess,
  requireTool,
  startFakeAtelet,
  startRedis,
  tempDir,
  type RedisInstance,
} from '@substrate/testing';

import { controlCall } from '../lib/grpc';
import { cpuMs, topFunctions } from '../lib/process-cpu';
import { fakeCatalogYaml, setting } from '../lib/fake-catalog';
import { type BenchOptions, type BenchOutcome, type BenchResult } from '../types';

const run = promisify(execFile);

const REPO = resolve(__dirname, '../../../..');
const WORKERS = 256;
const CHANNELS = 4;
const ATESPACE = 'bench';
const MEMORY_ACTORS = 100_000;
const TARGET_CYCLES_PER_S = 2_000;
const TARGET_CYCLE_P99_MS = 20;
const TARGET_BYTES_PER_ACTOR = 400;
const CALL_TIMEOUT_MS = 10_000;
/** Callers of the light-load cycle phase (latency without queueing). */
const LIGHT_CONCURRENCY = 4;

// ---- fixtures (the catalog the chaos test writes) ----------------------------------------------

function catalogYaml(): string {
  const template = {
    apiVersion: 'ate.dev/v1alpha1',
    kind: 'ActorTemplate',
    metadata: { name: 'counter', namespace: 'default' },
    spec: {
      pauseImage: 'registry.local/pause@sha256:' + '0'.repeat(64),
      containers: [
        {
          name: 'app',
          image: 'registry.local/counter@sha256:' + '1'.repeat(64),
          readyz: { httpGet: { path: '/readyz', port: 8080 } },
        },
      ],
      snapshotsConfig: {
        location: 'file:///tmp/substrate-test-snapshots',
        onPause: 'Full',
        onCommit: 'Full',
      },
      sandboxClass: 'gvisor',
    },
  } as ActorTemplate;
  return fakeCatalogYaml(template, WORKERS);
}

// ---- measurement helpers ---------------------------------------------------------------------

/** A Control call with this benchmark's deadline. */
const call: typeof controlCall = (client, method, request, timeoutMs = CALL_TIMEOUT_MS) =>
  controlCall(client, method, request, timeoutMs);

/** Latencies (ms) of one operation within the measured window. */
class Samples {
  private values = new Float64Array(1 << 16);
  count = 0;

  add(ms: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }

  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const sorted = this.values.slice(0, this.count).sort();
    return sorted[Math.min(this.count - 1, Math.ceil((p / 100) * this.count) - 1)] ?? Number.NaN;
  }
}

/** Failed calls by `<op>:<code>`. */
class Errors {
  readonly counts = new Map<string, number>();
  add(op: string, error: unknown): void {
    const code = (error as Partial<ServiceError>).code;
    const key = `${op}:${code === undefined ? String(error) : (status[code] ?? code)}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }
  describe(): string {
    return this.total === 0 ? 'none' : [...this.counts].map(([key, n]) => `${key} ×${n}`).join(', ');
  }
}

/** `INFO commandstats` → calls per command. */
function commandCalls(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(match[1] ?? '', Number(match[2]));
  }
  return calls;
}

function infoField(info: string, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  if (!match?.[1]) throw new Error(`INFO has no ${field}`);
  return Number(match[1]);
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

// ---- processes -------------------------------------------------------------------------------

/** ateapi as its own process, as apps/ateapi/test/ateapi-process.ts starts it. */
async function startAteapi(
  env: Record<string, string>,
  grpcPort: number,
  httpPort: number,
  profilePath: string | undefined,
): Promise<ManagedProcess> {
  const child = ManagedProcess.start(
    'ateapi',
    process.execPath,
    [
      ...(profilePath ? ['-r', join(__dirname, '../cpu-profile-preload.js')] : []),
      '-r',
      join(REPO, 'tools/scripts/swc-register.js'),
      join(REPO, 'apps/ateapi/src/main.ts'),
    ],
    join(REPO, 'apps/ateapi'),
    {
      ...env,
      ATEAPI_GRPC_LISTEN: `127.0.0.1:${grpcPort}`,
      ATEAPI_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      ...(profilePath ? { BENCH_CPU_PROFILE: profilePath } : {}),
    },
  );
  try {
    await child.waitUntil(
      async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok,
      60_000,
      'healthy',
    );
  } catch (error) {
    await child.kill();
    throw error;
  }
  return child;
}

// ---- phases ----------------------------------------------------------------------------------

const actorName = (prefix: string, n: number): string => `${prefix}-${String(n).padStart(6, '0')}`;

interface CreatePhase {
  readonly names: string[];
  readonly perSecond: number;
  readonly latency: Samples;
  readonly errors: Errors;
}

/** CreateActor with `concurrency` callers: `warmupMs` untimed, then `measureMs` timed. */
async function createPhase(
  clients: readonly ateapi.ControlClient[],
  concurrency: number,
  warmupMs: number,
  measureMs: number,
): Promise<CreatePhase> {
  const names: string[] = [];
  const latency = new Samples();
  const errors = new Errors();
  const start = performance.now();
  const windowStart = start + warmupMs;
  const windowEnd = windowStart + measureMs;
  let measured = 0;
  const caller = async (index: number) => {
    const client = clients[index % clients.length] as ateapi.ControlClient;
    while (performance.now() < windowEnd) {
      const name = actorName('bench', names.length);
      names.push(name);
      const t0 = performance.now();
      try {
        await call(client, 'createActor', {
          actorRef: { atespace: ATESPACE, name },
          actorTemplateNamespace: 'default',
          actorTemplateName: 'counter',
          workerSelector: undefined,
          annotations: {},
        });
        const t1 = performance.now();
        if (t0 >= windowStart && t1 <= windowEnd) {
          latency.add(t1 - t0);
          measured++;
        }
      } catch (error) {
        errors.add('create', error);
        names.splice(names.indexOf(name), 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => caller(i)));
  return { names, perSecond: (measured * 1000) / measureMs, latency, errors };
}

interface CyclePhase {
  readonly cycles: number;
  readonly perSecond: number;
  readonly cycle: Samples;
  readonly resume: Samples;
  readonly suspend: Samples;
  readonly errors: Errors;
  /** A cycled actor (now suspended, with a committed snapshot). */
  readonly cycledActor: string | undefined;
}

/**
 * Resume+suspend cycles: `concurrency` callers, each walking its own share of `names` (so no two callers
 * touch one actor), for `warmupMs` untimed and then `measureMs` timed. `onWindow` runs at the start and
 * the end of the timed window (counters, profiler).
 */
async function cyclePhase(
  clients: readonly ateapi.ControlClient[],
  names: readonly string[],
  concurrency: number,
  warmupMs: number,
  measureMs: number,
  onWindow: (edge: 'start' | 'end') => Promise<void>,
): Promise<CyclePhase> {
  const cycle = new Samples();
  const resume = new Samples();
  const suspend = new Samples();
  const errors = new Errors();
  const start = performance.now();
  const windowStart = start + warmupMs;
  const windowEnd = windowStart + measureMs;
  let cycledActor: string | undefined;
  const caller = async (index: number) => {
    const client = clients[index % clients.length] as ateapi.ControlClient;
    const mine = names.filter((_, i) => i % concurrency === index);
    for (let i = 0; performance.now() < windowEnd; i++) {
      const name = mine[i % mine.length] as string;
      const actorRef = { atespace: ATESPACE, name };
      const t0 = performance.now();
      try {
        await call(client, 'resumeActor', { actorRef, boot: false });
      } catch (error) {
        errors.add('resume', error);
        continue;
      }
      const t1 = performance.now();
      try {
        await call(client, 'suspendActor', { actorRef });
      } catch (error) {
        errors.add('suspend', error);
        continue;
      }
      const t2 = performance.now();
      cycledActor ??= name;
      if (t0 >= windowStart && t2 <= windowEnd) {
        cycle.add(t2 - t0);
        resume.add(t1 - t0);
        suspend.add(t2 - t1);
      }
    }
  };
  const edges = (async () => {
    await sleep(Math.max(0, windowStart - performance.now()));
    await onWindow('start');
    await sleep(Math.max(0, windowEnd - performance.now()));
    await onWindow('end');
  })();
  await Promise.all([...Array.from({ length: concurrency }, (_, i) => caller(i)), edges]);
  return {
    cycles: cycle.count,
    perSecond: (cycle.count * 1000) / measureMs,
    cycle,
    resume,
    suspend,
    errors,
    cycledActor,
  };
}

interface MemoryPhase {
  readonly bytesPerActor: number;
  readonly recordBytes: number;
  readonly memoryUsage: number;
  readonly keys: number;
}

/**
 * Redis memory of `count` suspended actors: the stored record(s) of one actor that went through a real
 * resume+suspend are copied to `count` new actor ids of the same length (every occurrence of the id
 * replaced, byte for byte, in key and values), so each copy is exactly what the workflows would have
 * written for that id; `used_memory` is read before and after.
 */
async function memoryPhase(
  redis: Redis,
  clients: readonly ateapi.ControlClient[],
  template: string,
  count: number,
  log: (message: string) => void,
): Promise<MemoryPhase> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `*${ATESPACE}/${template}*`, 'COUNT', 10_000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  if (keys.length === 0) throw new Error(`no Redis key holds actor ${template}`);
  const id = Buffer.from(template);
  const records = await Promise.all(
    keys.map(async (key) => {
      const type = await redis.type(key);
      if (type === 'hash') return { key, type, fields: await redis.hgetallBuffer(key) };
      if (type === 'string') return { key, type, value: (await redis.getBuffer(key)) ?? Buffer.alloc(0) };
      throw new Error(`actor key ${key} is a ${type}; the benchmark copies hashes and strings`);
    }),
  );
  const recordBytes = records.reduce(
    (sum, r) =>
      sum +
      Buffer.byteLength(r.key) +
      ('fields' in r && r.fields
        ? Object.entries(r.fields).reduce((s, [f, v]) => s + Buffer.byteLength(f) + v.length, 0)
        : 'value' in r && r.value
          ? r.value.length
          : 0),
    0,
  );
  let memoryUsage = 0;
  for (const { key } of records)
    memoryUsage += Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));

  const replace = (data: Buffer, by: Buffer): Buffer => {
    const out = Buffer.from(data);
    for (let at = out.indexOf(id); at >= 0; at = out.indexOf(id, at + id.length)) by.copy(out, at);
    return out;
  };
  const cloneName = (n: number) => {
    const name = actorName('clone', n).padStart(template.length, '0');
    if (name.length !== template.length) throw new Error('clone ids must have the template id length');
    return name;
  };
  const before = infoField(await redis.info('memory'), 'used_memory');
  const BATCH = 1_000;
  for (let first = 0; first < count; first += BATCH) {
    const pipeline = redis.pipeline();
    for (let n = first; n < Math.min(count, first + BATCH); n++) {
      const by = Buffer.from(cloneName(n));
      for (const record of records) {
        const key = replace(Buffer.from(record.key), by);
        if ('fields' in record && record.fields) {
          const args: Buffer[] = [];
          for (const [field, value] of Object.entries(record.fields))
            args.push(Buffer.from(field), replace(value, by));
          pipeline.hset(key, ...args);
        } else if ('value' in record && record.value) {
          pipeline.set(key, replace(record.value, by));
        }
      }
    }
    await pipeline.exec();
  }
  const after = infoField(await redis.info('memory'), 'used_memory');
  log(`memory: used_memory ${before} → ${after} over ${count} copies`);

  // The copies are real actors: ateapi reads them, and one of them goes through a cycle.
  const client = clients[0] as ateapi.ControlClient;
  for (const n of [0, Math.floor(count / 2), count - 1]) {
    const { actor } = await call(client, 'getActor', {
      actorRef: { atespace: ATESPACE, name: cloneName(n) },
    });
    const prefix =
      actor?.latestSnapshotInfo?.data?.$case === 'external'
        ? actor.latestSnapshotInfo.data.value.snapshotUriPrefix
        : '';
    if (actor?.status !== ateapi.Actor_Status.STATUS_SUSPENDED || !prefix.includes(cloneName(n))) {
      throw new Error(`copied actor ${cloneName(n)} is not a suspended actor with its own snapshot`);
    }
  }
  const actorRef = { atespace: ATESPACE, name: cloneName(1) };
  await call(client, 'resumeActor', { actorRef, boot: false });
  await call(client, 'suspendActor', { actorRef });
  return { bytesPerActor: (after - before) / count, recordBytes, memoryUsage, keys: records.length };
}

/** `redis-benchmark` GET and SET requests per second against the server (50 clients, no pipelining). */
async function redisBenchmark(port: number, requests: number): Promise<{ set: number; get: number }> {
  const { stdout } = await run(
    requireTool('redis-benchmark'),
    ['-h', '127.0.0.1', '-p', String(port), '-t', 'set,get', '-n', String(requests), '-c', '50', '--csv'],
    { timeout: 120_000 },
  );
  const rate = (test: string) => {
    const line = stdout.split('\n').find((l) => l.startsWith(`"${test}"`));
    const value = Number(line?.split(',')[1]?.replace(/"/g, ''));
    if (!Number.isFinite(value)) throw new Error(`redis-benchmark printed no ${test} rate:\n${stdout}`);
    return value;
  };
  return { set: rate('SET'), get: rate('GET') };
}

// ---- the benchmark ---------------------------------------------------------------------------

export async function runAteapi({ quick, log }: BenchOptions): Promise<BenchOutcome> {
  const concurrency = setting('BENCH_ATEAPI_CONCURRENCY', 32);
  const createConcurrency = setting('BENCH_ATEAPI_CREATE_CONCURRENCY', 32);
  const warmupMs = setting('BENCH_ATEAPI_WARMUP_MS', quick ? 2_000 : 5_000);
  const measureMs = setting('BENCH_ATEAPI_MEASURE_MS', quick ? 5_000 : 15_000);
  const createMs = setting('BENCH_ATEAPI_CREATE_MS', quick ? 3_000 : 5_000);
  const lightMs = setting('BENCH_ATEAPI_LIGHT_MS', quick ? 3_000 : 5_000);
  const memoryActors = setting('BENCH_ATEAPI_MEMORY_ACTORS', quick ? 20_000 : MEMORY_ACTORS);
  const profileDir = process.env['BENCH_ATEAPI_PROFILE_DIR'];

  const dir = tempDir('bench-ateapi');
  const cleanups: (() => Promise<void>)[] = [async () => dir.remove()];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((e: unknown) => log(`cleanup: ${String(e)}`));
  };
  try {
    log('starting redis-server');
    const redisServer: RedisInstance = await startRedis();
    cleanups.push(() => redisServer.stop());
    const redis = new Redis(redisServer.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    cleanups.push(async () => {
      redis.disconnect();
    });

    const manifests = join(dir.path, 'manifests');
    mkdirSync(manifests);
    writeFileSync(join(manifests, 'catalog.yaml'), catalogYaml());
    const [grpcPort = 0, httpPort = 0] = await freePorts(2);
    const profilePath = profileDir ? join(resolve(profileDir), `ateapi-${Date.now()}.cpuprofile`) : undefined;
    if (profileDir) mkdirSync(resolve(profileDir), { recursive: true });
    log('starting ateapi');
    const api = await startAteapi(
      {
        ATEAPI_REDIS_URL: redisServer.url,
        ATEAPI_MANIFESTS_DIR: manifests,
        ATEAPI_LEASE_SECONDS: '60',
      },
      grpcPort,
      httpPort,
      profilePath,
    );
    let stopping = false;
    cleanups.push(async () => {
      if (!api.running && !stopping) log(`ateapi had exited:\n${api.log}`);
      await api.stop(10_000);
    });
    const address = `127.0.0.1:${grpcPort}`;

    log(`starting the fake atelet with ${WORKERS} workers`);
    const atelet: FakeAtelet = await startFakeAtelet({
      latencyMs: [0, 0],
      callLogLimit: 0,
      registration: {
        ateapiAddress: address,
        nodeName: 'bench-node',
        leaseSeconds: 60,
        workers: fakeWorkerRegistrations(WORKERS, { pool: 'pool' }),
      },
    });
    cleanups.push(() => atelet.stop());

    const clients = Array.from(
      { length: CHANNELS },
      () =>
        new ateapi.ControlClient(address, credentials.createInsecure(), {
          // One connection per client, instead of grpc-js sharing one subchannel between them.
          'grpc.use_local_subchannel_pool': 1,
          // A lean load generator: no channelz call tracing.
          'grpc.enable_channelz': 0,
        }),
    );
    cleanups.push(async () => clients.forEach((c) => c.close()));
    const first = clients[0] as ateapi.ControlClient;
    for (let i = 0; ; i++) {
      const { workers } = await call(first, 'listWorkers', {});
      if (workers.length >= WORKERS) break;
      if (i >= 200) throw new Error(`only ${workers.length} of ${WORKERS} workers registered`);
      await sleep(100);
    }
    await call(first, 'createAtespace', { name: ATESPACE });

    log(`CreateActor: ${createConcurrency} callers, ${createMs} ms after a ${1_000} ms warm-up`);
    const created = await createPhase(clients, createConcurrency, 1_000, createMs);
    log(`created ${created.names.length} actors (${created.perSecond.toFixed(0)}/s)`);
    if (created.names.length < concurrency * 2) throw new Error('too few actors to cycle');

    log(`resume+suspend cycles: ${concurrency} callers, ${measureMs} ms after a ${warmupMs} ms warm-up`);
    const pids = { ateapi: api.pid, redis: redisServer.pid, atelet: atelet.pid };
    const cpuStart: Record<string, number> = {};
    const cpuUsed: Record<string, number> = {};
    let commands = new Map<string, number>();
    let profile: string[] = [];
    const cycled = await cyclePhase(
      clients,
      created.names,
      concurrency,
      warmupMs,
      measureMs,
      async (edge) => {
        if (edge === 'start') {
          await redis.config('RESETSTAT');
          for (const [name, pid] of Object.entries(pids)) cpuStart[name] = cpuMs(pid);
          cpuStart['bench'] = process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000;
          if (profilePath && api.pid) process.kill(api.pid, 'SIGWINCH');
        } else {
          for (const [name, pid] of Object.entries(pids)) cpuUsed[name] = cpuMs(pid) - (cpuStart[name] ?? 0);
          cpuUsed['bench'] =
            process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 - (cpuStart['bench'] ?? 0);
          commands = commandCalls(await redis.info('commandstats'));
          if (profilePath && api.pid) process.kill(api.pid, 'SIGWINCH');
        }
      },
    );
    log(
      `cycles: ${cycled.perSecond.toFixed(0)}/s, p50 ${cycled.cycle.percentile(50).toFixed(2)} ms, p99 ${cycled.cycle.percentile(99).toFixed(2)} ms, errors: ${cycled.errors.describe()}`,
    );
    if (profilePath) {
      for (let i = 0; i < 100 && !existsSync(profilePath); i++) await sleep(100);
      if (existsSync(profilePath)) {
        profile = topFunctions(profilePath);
        log(`profile: ${profilePath}\n  ${profile.join('\n  ')}`);
      }
    }
    if (!cycled.cycledActor) throw new Error('no cycle completed');

    log(`light load: ${LIGHT_CONCURRENCY} callers, ${lightMs} ms after a 1000 ms warm-up`);
    const light = await cyclePhase(clients, created.names, LIGHT_CONCURRENCY, 1_000, lightMs, () =>
      Promise.resolve(),
    );
    log(
      `light cycles: ${light.perSecond.toFixed(0)}/s, p50 ${light.cycle.percentile(50).toFixed(2)} ms, p99 ${light.cycle.percentile(99).toFixed(2)} ms, errors: ${light.errors.describe()}`,
    );

    log(`memory of ${memoryActors} suspended actors`);
    const memory = await memoryPhase(redis, clients, cycled.cycledActor, memoryActors, log);

    log('stopping ateapi and the fake atelet; redis-benchmark');
    stopping = true;
    await api.stop(10_000);
    await atelet.stop();
    const reference = await redisBenchmark(redisServer.port, quick ? 100_000 : 500_000);

    const perCycle = (n: number) => (cycled.cycles > 0 ? n / cycled.cycles : Number.NaN);
    const commandLine = [...commands]
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${perCycle(n).toFixed(2)}`)
      .join(', ');
    const totalCommands = [...commands.values()].reduce((a, b) => a + b, 0);
    const seconds = measureMs / 1000;
    const cpuLine = Object.entries(cpuUsed)
      .map(
        ([name, ms]) =>
          `${name} ${(ms / seconds / 10).toFixed(0)}% (${perCycle(ms * 1000).toFixed(0)} µs/cycle)`,
      )
      .join(', ');

    const results: BenchResult[] = [
      { metric: 'ateapi.cycles_per_s', value: Math.round(cycled.perSecond), unit: 'cycles/s' },
      { metric: 'ateapi.cycle_p50_ms', value: round(cycled.cycle.percentile(50)), unit: 'ms' },
      { metric: 'ateapi.cycle_p99_ms', value: round(cycled.cycle.percentile(99)), unit: 'ms' },
      { metric: 'ateapi.resume_per_s', value: Math.round(cycled.perSecond), unit: 'ops/s' },
      { metric: 'ateapi.resume_p50_ms', value: round(cycled.resume.percentile(50)), unit: 'ms' },
      { metric: 'ateapi.resume_p99_ms', value: round(cycled.resume.percentile(99)), unit: 'ms' },
      { metric: 'ateapi.suspend_per_s', value: Math.round(cycled.perSecond), unit: 'ops/s' },
      { metric: 'ateapi.suspend_p50_ms', value: round(cycled.suspend.percentile(50)), unit: 'ms' },
      { metric: 'ateapi.suspend_p99_ms', value: round(cycled.suspend.percentile(99)), unit: 'ms' },
      { metric: 'ateapi.light_cycles_per_s', value: Math.round(light.perSecond), unit: 'cycles/s' },
      { metric: 'ateapi.light_cycle_p50_ms', value: round(light.cycle.percentile(50)), unit: 'ms' },
      { metric: 'ateapi.light_cycle_p99_ms', value: round(light.cycle.percentile(99)), unit: 'ms' },
      { metric: 'ateapi.create_per_s', value: Math.round(created.perSecond), unit: 'ops/s' },
      { metric: 'ateapi.create_p50_ms', value: round(created.latency.percentile(50)), unit: 'ms' },
      { metric: 'ateapi.create_p99_ms', value: round(created.latency.percentile(99)), unit: 'ms' },
      { metric: 'ateapi.redis_bytes_per_actor', value: Math.round(memory.bytesPerActor), unit: 'bytes' },
      { metric: 'ref.redis_set_per_s', value: Math.round(reference.set), unit: 'ops/s' },
      { metric: 'ref.redis_get_per_s', value: Math.round(reference.get), unit: 'ops/s' },
    ];
    const met = (ok: boolean) => (ok ? 'met' : 'not met');
    const p99 = cycled.cycle.percentile(99);
    const verdict =
      `Targets: ≥ ${TARGET_CYCLES_PER_S} resume+suspend cycles/s sustained — ${met(cycled.perSecond >= TARGET_CYCLES_PER_S)} ` +
      `(${Math.round(cycled.perSecond)}); cycle p99 < ${TARGET_CYCLE_P99_MS} ms — ${met(p99 < TARGET_CYCLE_P99_MS)} ` +
      `(${p99.toFixed(1)} ms); ≤ ${TARGET_BYTES_PER_ACTOR} bytes of Redis per suspended actor — ` +
      `${met(memory.bytesPerActor <= TARGET_BYTES_PER_ACTOR)} (${Math.round(memory.bytesPerActor)}).`;
    const notes = [
      `Setup: redis-server ${'(standalone, no persistence)'}, ateapi as its own process (\`node -r tools/scripts/swc-register.js apps/ateapi/src/main.ts\`), the fake atelet process (latency 0, call log off) registering ${WORKERS} workers of one pool, and the load generator in the benchmark process: ${CHANNELS} gRPC channels of the generated \`ateapi.ControlClient\`, all on the same 2 cores.`,
      `CreateActor: ${createConcurrency} concurrent callers for ${createMs / 1000} s after 1 s of warm-up (${created.names.length} actors in all); errors: ${created.errors.describe()}.`,
      `Cycles: ${concurrency} concurrent callers, each cycling its own actors (ResumeActor, then SuspendActor, one actor after another), ${measureMs / 1000} s timed after ${warmupMs / 1000} s of warm-up; ${cycled.cycles} complete cycles in the window; errors: ${cycled.errors.describe()}. Resume and suspend rates equal the cycle rate (one of each per cycle). A closed loop: at saturation a cycle's latency is mostly queueing (callers / rate), so the \`light\` figures repeat the cycles with ${LIGHT_CONCURRENCY} callers for ${lightMs / 1000} s (errors: ${light.errors.describe()}).`,
      `CPU use in the timed window (share of one core, and per cycle): ${cpuLine}.`,
      `Redis commands per cycle (INFO commandstats over the window, background loops included): ${totalCommands > 0 ? perCycle(totalCommands).toFixed(2) : '?'} in all — ${commandLine}.`,
      `Memory: \`used_memory\` delta over ${memoryActors.toLocaleString('en-US')} suspended actors, copied from the ${memory.keys} key(s) of an actor that went through a real resume+suspend (its id replaced byte for byte by ids of the same length, so each copy is what the workflows write; three copies read back through GetActor and one cycled). One record: ${memory.recordBytes} bytes of key and data, \`MEMORY USAGE\` ${memory.memoryUsage} bytes.`,
      `Reference: \`redis-benchmark -t set,get -c 50\` (${quick ? '100,000' : '500,000'} requests, no pipelining) against the same redis-server after ateapi stopped.`,
      ...(profile.length > 0
        ? [`ateapi CPU profile, top self time in the window: ${profile.join('; ')}.`]
        : []),
    ];
    return { results, verdict, notes };
  } finally {
    await cleanup();
  }
}
