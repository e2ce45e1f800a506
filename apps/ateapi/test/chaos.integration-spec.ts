// Concurrency and crash safety: 50 clients hammer Resume / Suspend / Delete (and re-create) on 30
// overlapping actors for 20 s while the ateapi process is killed (SIGKILL) at random moments and
// restarted. Afterwards, once recovery has run: no worker is assigned to two actors (checked both in
// the store and by the fake atelet, which saw every Run/Restore/Checkpoint), no actor is lost, every
// actor is in a legal settled state, and every worker/actor pointer agrees.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ateapi } from '@substrate/proto';
import {
  describeWithComponents,
  type FakeAtelet,
  fakeWorkerRegistrations,
  freePorts,
  startFakeAtelet,
  tempDir,
} from '@substrate/testing';
import { toYaml } from '@substrate/api';
import { pool, redisSettings, sandboxConfig, template, type RedisMode } from './ateapi-harness';
import { AteapiProcess } from './ateapi-process';

const ACTORS = Array.from({ length: 30 }, (_, i) => `chaos-${i}`);
const CLIENTS = 50;
const DURATION_MS = 20_000;
const WORKERS = 12;
const SETTLED = new Set([
  ateapi.Actor_Status.STATUS_RUNNING,
  ateapi.Actor_Status.STATUS_SUSPENDED,
  ateapi.Actor_Status.STATUS_PAUSED,
]);

function unary<Res>(
  fn: (
    req: never,
    md: Metadata,
    opts: { deadline: Date },
    cb: (e: ServiceError | null, r: Res) => void,
  ) => unknown,
  request: unknown,
  timeoutMs = 5_000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(request as never, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

describeWithComponents(['redis-server'], 'ateapi under concurrent load and random crashes', () => {
  describe.each<RedisMode>(['standalone', 'cluster'])('on %s Redis', (mode) => {
    let atelet: FakeAtelet | undefined;
    let api: AteapiProcess | undefined;
    const dir = tempDir('ateapi-chaos');

    afterAll(async () => {
      await api?.kill();
      await atelet?.stop();
      dir.remove();
    });

    it('keeps every invariant', async () => {
      const [grpcPort = 0, httpPort = 0] = await freePorts(2);
      const manifests = join(dir.path, 'manifests');
      mkdirSync(manifests);
      writeFileSync(
        join(manifests, 'catalog.yaml'),
        toYaml([template('counter'), pool('pool'), sandboxConfig()]),
      );
      const env = {
        ...redisSettings(mode),
        ATEAPI_MANIFESTS_DIR: manifests,
        ATEAPI_DEBUG_CLEAR: 'true',
        // Short lock and stuck timeouts so recovery can settle what the kills leave behind quickly.
        ATEAPI_LOCK_TTL_MS: '3000',
        ATEAPI_WORKFLOW_DEADLINE_MS: '2500',
        ATEAPI_CAPACITY_WAIT_MS: '200',
        ATEAPI_STUCK_AFTER_MS: '3500',
        ATEAPI_CLAIM_GRACE_MS: '3500',
        ATEAPI_RECOVERY_INTERVAL_MS: '500',
        ATEAPI_LEASE_SECONDS: '60',
      };
      api = await AteapiProcess.start(env, grpcPort, httpPort);
      const address = `127.0.0.1:${grpcPort}`;
      // Reconnect quickly after each restart instead of grpc-js's default backoff (up to 2 minutes).
      const control = new ateapi.ControlClient(address, credentials.createInsecure(), {
        'grpc.initial_reconnect_backoff_ms': 50,
        'grpc.max_reconnect_backoff_ms': 500,
      });
      const c = control as unknown as Record<string, (...args: never[]) => unknown>;
      const rpc = <Res>(method: string, request: unknown) =>
        unary<Res>((c[method] as never as (...a: never[]) => unknown).bind(control) as never, request);

      await rpc('debugClear', {});
      // A worker the control plane released without a checkpoint (a resume or suspend that crashed and
      // was recovered) still holds the stale sandbox; the next Run/Restore replaces it, as atelet does.
      atelet = await startFakeAtelet({
        rejectBusyWorker: false,
        latencyMs: [0, 20],
        registration: {
          ateapiAddress: address,
          nodeName: 'chaos-node',
          leaseSeconds: 60,
          periodMs: 500,
          workers: fakeWorkerRegistrations(WORKERS, { pool: 'pool' }),
        },
      });
      await rpc('createAtespace', { name: 'chaos' });
      for (const name of ACTORS) {
        await rpc('createActor', {
          actorRef: { atespace: 'chaos', name },
          actorTemplateNamespace: 'default',
          actorTemplateName: 'counter',
          annotations: {},
        });
      }
      // Wait for the fake atelet's first report.
      for (
        let i = 0;
        i < 100 && (await rpc<ateapi.ListWorkersResponse>('listWorkers', {})).workers.length < WORKERS;
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      // What each actor may be at the end: present for sure, absent for sure, or unknown (a create or
      // delete whose answer was lost in a crash).
      const existence = new Map<string, 'present' | 'absent' | 'unknown'>(ACTORS.map((a) => [a, 'present']));
      // Creates and deletes of one actor that overlap in time finish in any order: their answers say
      // nothing about the end state, so an overlapped one leaves the actor unknown.
      const mutating = new Map<string, { inFlight: number; started: number }>(
        ACTORS.map((a) => [a, { inFlight: 0, started: 0 }]),
      );
      const outcomes = new Map<string, number>();
      const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      const end = Date.now() + DURATION_MS;
      let kills = 0;

      const client = async () => {
        while (Date.now() < end) {
          const name = ACTORS[Math.floor(Math.random() * ACTORS.length)] as string;
          const actorRef = { atespace: 'chaos', name };
          const roll = Math.random();
          const op =
            roll < 0.45
              ? 'resumeActor'
              : roll < 0.85
                ? 'suspendActor'
                : roll < 0.93
                  ? 'deleteActor'
                  : 'createActor';
          const request =
            op === 'createActor'
              ? { actorRef, actorTemplateNamespace: 'default', actorTemplateName: 'counter', annotations: {} }
              : { actorRef };
          const mutates = op === 'deleteActor' || op === 'createActor';
          const tracker = mutating.get(name) ?? { inFlight: 0, started: 0 };
          const startedBefore = tracker.started;
          const overlappedAtStart = tracker.inFlight > 0;
          if (mutates) {
            tracker.inFlight++;
            tracker.started++;
          }
          const overlapped = () => overlappedAtStart || tracker.started !== startedBefore + 1;
          try {
            await rpc(op, request);
            count(`${op}:OK`);
            if (mutates && overlapped()) existence.set(name, 'unknown');
            else if (op === 'deleteActor') existence.set(name, 'absent');
            else if (op === 'createActor') existence.set(name, 'present');
          } catch (error) {
            const code = (error as ServiceError).code;
            count(`${op}:${status[code] ?? code}`);
            const lost =
              code === status.UNAVAILABLE ||
              code === status.DEADLINE_EXCEEDED ||
              code === status.CANCELLED ||
              code === status.INTERNAL;
            if (mutates && (lost || overlapped())) existence.set(name, 'unknown');
            if (lost) await new Promise((resolve) => setTimeout(resolve, 50));
          } finally {
            if (mutates) tracker.inFlight--;
          }
        }
      };
      const chaos = async () => {
        while (Date.now() < end - 3_000) {
          await new Promise((resolve) => setTimeout(resolve, 2_000 + Math.random() * 3_000));
          await api?.kill();
          kills++;
          api = await AteapiProcess.start(env, grpcPort, httpPort);
        }
      };
      await Promise.all([...Array.from({ length: CLIENTS }, client), chaos()]);
      expect(kills).toBeGreaterThanOrEqual(2);
      expect(outcomes.get('resumeActor:OK') ?? 0).toBeGreaterThan(50);
      expect(outcomes.get('suspendActor:OK') ?? 0).toBeGreaterThan(50);

      // Let recovery settle what the kills left in flight (locks expire after 3 s, stuck after 3.5 s).
      let actors: ateapi.Actor[] = [];
      for (let attempt = 0; attempt < 60; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        actors = (
          await rpc<ateapi.ListActorsResponse>('listActors', {
            pageSize: 0,
            pageToken: '',
            atespace: 'chaos',
          })
        ).actors;
        if (actors.every((a) => SETTLED.has(a.status))) break;
      }
      const detail = `outcomes ${JSON.stringify(Object.fromEntries(outcomes))}\nactors ${JSON.stringify(actors.map((a) => [a.actorId, ateapi.actor_StatusToJSON(a.status), a.ateomPodName]))}`;
      expect({
        unsettled: actors.filter((a) => !SETTLED.has(a.status)).map((a) => a.actorId),
        detail,
      }).toEqual({ unsettled: [], detail });

      // No actor lost, none resurrected.
      const present = new Set(actors.map((a) => a.actorId));
      for (const [name, expected] of existence) {
        if (expected === 'present')
          expect({ name, present: present.has(name) }).toEqual({ name, present: true });
        if (expected === 'absent')
          expect({ name, present: present.has(name) }).toEqual({ name, present: false });
      }

      // Worker ↔ actor pointers agree, and no worker serves two actors.
      const workers = (await rpc<ateapi.ListWorkersResponse>('listWorkers', {})).workers;
      const holders = new Map<string, string[]>();
      for (const actor of actors) {
        if (actor.status === ateapi.Actor_Status.STATUS_RUNNING) {
          expect(actor.ateomPodName).not.toBe('');
          holders.set(actor.ateomPodName, [...(holders.get(actor.ateomPodName) ?? []), actor.actorId]);
        } else {
          expect({ actor: actor.actorId, pod: actor.ateomPodName }).toEqual({
            actor: actor.actorId,
            pod: '',
          });
        }
      }
      for (const [pod, names] of holders) expect({ pod, names: names.length }).toEqual({ pod, names: 1 });
      for (const worker of workers) {
        const holder = holders.get(worker.workerPod)?.[0] ?? '';
        expect({ worker: worker.workerPod, actor: worker.actorId }).toEqual({
          worker: worker.workerPod,
          actor: holder,
        });
      }
      // The data plane was never asked to checkpoint an actor its worker did not hold: that is what two
      // actors assigned to one worker at once would look like from there. (A Run/Restore onto a worker
      // holding another actor is the replacement of a released, stale sandbox and is allowed.)
      expect((await atelet.violations()).filter((v) => v.method === 'checkpoint' || v.concurrent)).toEqual(
        [],
      );
      control.close();
    }, 180_000);
  });
});
