// atenet with a real ateapi process on real Redis, a fake atelet, and real HTTP servers standing in for
// the workers' sandboxes: routing by Host and by header, malformed and unknown actors, one ResumeActor
// for 100 concurrent requests, deadlines, websockets, SSE, the route cache, and idle auto-suspend (the
// router's default, and per-actor / per-template timeouts from the `substrate.ate.dev/idle-suspend-after`
// annotation).
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { ateapi } from '@substrate/proto';
import { describeWithComponents, requireTool } from '@substrate/testing';
import WebSocket from 'ws';
import { bootAteapi, hostOf, MANIFESTS, type RouterWorld, startRouterWorld } from './router-harness';

const IDLE = 'substrate.ate.dev/idle-suspend-after';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = promisify(execFile);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** TCP connections in TIME_WAIT whose local port is `port` (this machine's kernel, as `ss` lists them). */
async function timeWaits(port: number): Promise<number> {
  const { stdout } = await run(requireTool('ss'), ['-Htan', 'state', 'time-wait', `sport = :${port}`]);
  return stdout.split('\n').filter((line) => line.trim() !== '').length;
}

function get(
  world: RouterWorld,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${world.routerUrl}${path}`,
      { method: body === undefined ? 'GET' : 'POST', headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const json = (answer: Answer) => JSON.parse(answer.body) as Record<string, unknown>;

describeWithComponents(['redis-server'], 'atenet router', () => {
  describe('routing and waking', () => {
    let world: RouterWorld;
    beforeAll(async () => {
      world = await startRouterWorld({ workerCount: 8, env: { ATENET_WAKE_TIMEOUT_MS: '3000' } });
      await world.rpc('createAtespace', { name: 'web' });
      for (const name of ['alpha', 'beta', 'herd', 'slow', 'ws', 'sse']) {
        await world.rpc('createActor', {
          actorRef: { atespace: 'web', name },
          actorTemplateNamespace: 'default',
          actorTemplateName: 'web',
          annotations: {},
        });
      }
    });
    afterAll(async () => {
      await world?.close();
    });

    it('wakes a suspended actor and forwards by Host; the actor sees its own name and X-Forwarded-For', async () => {
      const answer = await get(world, '/hello?x=1', { host: hostOf('alpha') });
      expect(answer.status).toBe(200);
      expect(json(answer)).toMatchObject({
        host: hostOf('alpha'),
        url: '/hello?x=1',
        method: 'GET',
        forwardedFor: '127.0.0.1',
      });
      const { actor } = await world.rpc<ateapi.GetActorResponse>('getActor', {
        actorRef: { atespace: 'web', name: 'alpha' },
      });
      expect(actor?.status).toBe(ateapi.Actor_Status.STATUS_RUNNING);
      expect(json(answer)['worker']).toBe(Number(actor?.ateomPodName.replace('pool-', '')));
    });

    it('resets an idle pooled connection to a worker (RST) before the worker would close it itself', async () => {
      const answer = await get(world, '/', { host: hostOf('alpha') });
      expect(answer.status).toBe(200);
      const worker = world.workers[json(answer)['worker'] as number];
      if (worker === undefined) throw new Error('no such worker');
      const before = worker.resets;
      // The worker keeps idle connections for 60 s; the router resets its own after 1 s unused.
      for (let i = 0; i < 200 && worker.resets === before; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(worker.resets).toBeGreaterThan(before);
    });

    it('answers a worker that closes a connection first with a reset, so the worker keeps no TIME_WAIT', async () => {
      const first = await get(world, '/', { host: hostOf('alpha') });
      const worker = world.workers[json(first)['worker'] as number];
      if (worker === undefined) throw new Error('no such worker');
      const before = await timeWaits(worker.port);
      const answer = await get(world, '/close', { host: hostOf('alpha') });
      expect(answer.status).toBe(200);
      await sleep(300);
      // Had the router answered the worker's FIN with its own FIN, the worker's side would be in TIME_WAIT.
      expect(await timeWaits(worker.port)).toBeLessThanOrEqual(before);
    });

    it('routes by the ate-target-actor header, streaming a request body', async () => {
      const answer = await get(
        world,
        '/upload',
        { host: 'localhost', 'ate-target-actor': 'web/beta' },
        'x'.repeat(1_000_000),
      );
      expect(answer.status).toBe(200);
      expect(json(answer)).toMatchObject({ host: hostOf('beta'), method: 'POST', bodyBytes: 1_000_000 });
    });

    it('answers malformed and unknown actors with 404 and a JSON body', async () => {
      const malformed = await get(world, '/', { host: 'Alpha.web.actors.resources.substrate.ate.dev' });
      expect(malformed.status).toBe(404);
      expect(malformed.headers['content-type']).toBe('application/json');
      expect(json(malformed)).toEqual({
        code: 'INVALID_ACTOR_ADDRESS',
        message:
          'invalid host "Alpha.web.actors.resources.substrate.ate.dev": actor "Alpha" is not a DNS-1123 label (lower case letters, digits and \'-\')',
      });
      const noAtespace = await get(world, '/', { host: 'alpha.actors.resources.substrate.ate.dev' });
      expect(noAtespace.status).toBe(404);
      const unknown = await get(world, '/', { host: hostOf('ghost') });
      expect(unknown.status).toBe(404);
      expect(json(unknown)).toEqual({ code: 'NOT_FOUND', message: 'actor "ghost" not found' });
    });

    it('sends 100 concurrent requests to a suspended actor through exactly one ResumeActor', async () => {
      const before = world.metrics.resumes.get({ outcome: 'OK' });
      const restoresBefore = (await world.atelet.calls()).filter((c) => c.actor === 'web/herd').length;
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => get(world, '/', { host: hostOf('herd') })),
      );
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 100 }, () => 200));
      expect(world.metrics.resumes.get({ outcome: 'OK' }) - before).toBe(1);
      expect((await world.atelet.calls()).filter((c) => c.actor === 'web/herd').length - restoresBefore).toBe(
        1,
      );
      expect(world.metrics.held.get()).toBe(0);
    });

    it('answers 504 when the actor does not wake in time, and nothing stays stuck', async () => {
      await world.atelet.setFault({ actor: 'web/slow', method: '*', delayMs: 5_000 });
      const answer = await get(world, '/', { host: hostOf('slow') });
      expect(answer.status).toBe(504);
      expect(json(answer)).toEqual({ code: 'DEADLINE_EXCEEDED', message: 'actor "slow" request timed out' });
      expect(world.metrics.held.get()).toBe(0);
      await world.atelet.clearFaults();
      // The control plane finishes (or retries) the resume; the next request gets through.
      let retried = await get(world, '/', { host: hostOf('slow') });
      for (let i = 0; i < 20 && retried.status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        retried = await get(world, '/', { host: hostOf('slow') });
      }
      expect(retried.status).toBe(200);
    });

    it('after a suspend, the cached route is dropped and the next request wakes the actor again', async () => {
      expect((await get(world, '/', { host: hostOf('alpha') })).status).toBe(200);
      const before = world.metrics.resumes.get({ outcome: 'OK' });
      await world.rpc('suspendActor', { actorRef: { atespace: 'web', name: 'alpha' } });
      const answer = await get(world, '/', { host: hostOf('alpha') });
      expect(answer.status).toBe(200);
      expect(world.metrics.resumes.get({ outcome: 'OK' }) - before).toBe(1);
      // A running actor is served from the cache: no further ResumeActor.
      await get(world, '/', { host: hostOf('alpha') });
      expect(world.metrics.resumes.get({ outcome: 'OK' }) - before).toBe(1);
    });

    it('forwards websockets', async () => {
      const socket = new WebSocket(`${world.routerUrl.replace('http', 'ws')}/chat`, {
        headers: { host: hostOf('ws') },
      });
      const reply = await new Promise<string>((resolve, reject) => {
        socket.once('open', () => socket.send('hello'));
        socket.once('message', (data) => resolve(String(data)));
        socket.once('error', reject);
      });
      expect(reply).toBe('echo:hello');
      socket.close();
    });

    it('streams a 10 s server-sent-events response without cutting it', async () => {
      const events = await new Promise<string[]>((resolve, reject) => {
        const request = httpRequest(
          `${world.routerUrl}/sse`,
          { headers: { host: hostOf('sse') } },
          (response) => {
            const seen: string[] = [];
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => seen.push(...chunk.split('\n\n').filter(Boolean)));
            response.on('end', () => resolve(seen));
          },
        );
        request.on('error', reject);
        request.end();
      });
      expect(events).toEqual(Array.from({ length: 10 }, (_, i) => `data: tick ${i + 1}`));
    }, 30_000);

    it('serves Prometheus metrics on the admin port', async () => {
      const text = await (
        await world.app.getUrl().then((url) => fetch(`${url.replace('[::1]', '127.0.0.1')}/metrics`))
      ).text();
      expect(text).toContain('# TYPE atenet_requests_total counter');
      expect(text).toMatch(/atenet_requests_total\{outcome="routed"\} \d+/);
      expect(text).toContain('atenet_wake_seconds_bucket{le="+Inf"}');
    });
  });

  describe('idle auto-suspend', () => {
    let world: RouterWorld;
    beforeAll(async () => {
      world = await startRouterWorld({ env: { ATENET_IDLE_SUSPEND_MS: '1500' } });
      await world.rpc('createAtespace', { name: 'web' });
      for (const name of ['quiet', 'chatty', 'opted-out']) {
        await world.rpc('createActor', {
          actorRef: { atespace: 'web', name },
          actorTemplateNamespace: 'default',
          actorTemplateName: 'web',
          annotations: name === 'opted-out' ? { [IDLE]: 'off' } : {},
        });
      }
    });
    afterAll(async () => {
      await world?.close();
    });

    const statusOf = async (name: string) =>
      (await world.rpc<ateapi.GetActorResponse>('getActor', { actorRef: { atespace: 'web', name } })).actor
        ?.status;

    it('suspends an actor idle past its timeout, but not one with an open websocket or its own "off"', async () => {
      expect((await get(world, '/', { host: hostOf('quiet') })).status).toBe(200);
      expect((await get(world, '/', { host: hostOf('opted-out') })).status).toBe(200);
      const socket = new WebSocket(`${world.routerUrl.replace('http', 'ws')}/`, {
        headers: { host: hostOf('chatty') },
      });
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(await statusOf('quiet')).toBe(ateapi.Actor_Status.STATUS_SUSPENDED);
      expect(await statusOf('chatty')).toBe(ateapi.Actor_Status.STATUS_RUNNING);
      expect(await statusOf('opted-out')).toBe(ateapi.Actor_Status.STATUS_RUNNING);
      expect(world.metrics.idleSuspensions.get({ outcome: 'OK' })).toBe(1);
      socket.close();
      for (let i = 0; i < 40 && (await statusOf('chatty')) !== ateapi.Actor_Status.STATUS_SUSPENDED; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(await statusOf('chatty')).toBe(ateapi.Actor_Status.STATUS_SUSPENDED);
      expect(await statusOf('opted-out')).toBe(ateapi.Actor_Status.STATUS_RUNNING);
    }, 30_000);
  });

  describe('idle auto-suspend per actor and per template (router default off)', () => {
    let world: RouterWorld;
    /** actor → [template, actor annotations] */
    const ACTORS: Record<string, [string, Record<string, string>]> = {
      annotated: ['web', { [IDLE]: '2s' }],
      inherits: ['lazy', {}],
      plain: ['web', {}],
      'opted-out': ['lazy', { [IDLE]: 'off' }],
      longer: ['lazy', { [IDLE]: '1h' }],
      streaming: ['web', { [IDLE]: '2s' }],
    };
    beforeAll(async () => {
      world = await startRouterWorld({ workerCount: 6 });
      await world.rpc('createAtespace', { name: 'web' });
      for (const [name, [template, annotations]] of Object.entries(ACTORS)) {
        await world.rpc('createActor', {
          actorRef: { atespace: 'web', name },
          actorTemplateNamespace: 'default',
          actorTemplateName: template,
          annotations,
        });
      }
    });
    afterAll(async () => {
      await world?.close();
    });

    const statusOf = async (name: string) =>
      (await world.rpc<ateapi.GetActorResponse>('getActor', { actorRef: { atespace: 'web', name } })).actor
        ?.status;
    /** Polls until the actor is SUSPENDED (a generous wait for an event, not a bound on its timing). */
    const untilSuspended = async (name: string) => {
      for (let i = 0; i < 120 && (await statusOf(name)) !== ateapi.Actor_Status.STATUS_SUSPENDED; i++) {
        await sleep(250);
      }
      return statusOf(name);
    };

    it('answers the effective timeout: the actor’s annotation, else its template’s, else none', async () => {
      const timeouts: Record<string, number | undefined> = {};
      for (const name of Object.keys(ACTORS)) {
        const { actor } = await world.rpc<ateapi.GetActorResponse>('getActor', {
          actorRef: { atespace: 'web', name },
        });
        timeouts[name] = actor?.idleSuspendAfterMs;
      }
      expect(timeouts).toEqual({
        annotated: 2_000,
        inherits: 2_000,
        plain: undefined,
        'opted-out': 0,
        longer: 3_600_000,
        streaming: 2_000,
      });
    });

    it('suspends actors idle past their own or their template’s timeout, and no other', async () => {
      for (const name of Object.keys(ACTORS)) {
        if (name === 'streaming') continue;
        expect((await get(world, '/', { host: hostOf(name) })).status).toBe(200);
      }
      const socket = new WebSocket(`${world.routerUrl.replace('http', 'ws')}/`, {
        headers: { host: hostOf('streaming') },
      });
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      expect(await untilSuspended('annotated')).toBe(ateapi.Actor_Status.STATUS_SUSPENDED);
      expect(await untilSuspended('inherits')).toBe(ateapi.Actor_Status.STATUS_SUSPENDED);
      // Well past the 2 s timeout of the others: the rest are still running.
      await sleep(3_000);
      expect(await statusOf('plain')).toBe(ateapi.Actor_Status.STATUS_RUNNING);
      expect(await statusOf('opted-out')).toBe(ateapi.Actor_Status.STATUS_RUNNING);
      expect(await statusOf('longer')).toBe(ateapi.Actor_Status.STATUS_RUNNING);
      // The open websocket keeps its annotated actor awake, and still carries messages.
      expect(await statusOf('streaming')).toBe(ateapi.Actor_Status.STATUS_RUNNING);
      const echo = new Promise((resolve) => socket.once('message', (data) => resolve(String(data))));
      socket.send('still here');
      expect(await echo).toBe('echo:still here');
      expect(world.metrics.idleSuspensions.get({ outcome: 'OK' })).toBe(2);

      // Closed, it idles out like the others.
      socket.close();
      expect(await untilSuspended('streaming')).toBe(ateapi.Actor_Status.STATUS_SUSPENDED);
      expect(world.metrics.idleSuspensions.get({ outcome: 'OK' })).toBe(3);
    }, 90_000);

    it('wakes an idle-suspended actor on its next request and suspends it again after its timeout', async () => {
      expect(await statusOf('annotated')).toBe(ateapi.Actor_Status.STATUS_SUSPENDED);
      const before = world.metrics.idleSuspensions.get({ outcome: 'OK' });
      expect((await get(world, '/', { host: hostOf('annotated') })).status).toBe(200);
      expect(await statusOf('annotated')).toBe(ateapi.Actor_Status.STATUS_RUNNING);
      expect(await untilSuspended('annotated')).toBe(ateapi.Actor_Status.STATUS_SUSPENDED);
      expect(world.metrics.idleSuspensions.get({ outcome: 'OK' })).toBe(before + 1);
    }, 60_000);

    it('does not count an actor suspended by someone else as an idle suspension', async () => {
      expect((await get(world, '/', { host: hostOf('inherits') })).status).toBe(200);
      const before = world.metrics.idleSuspensions.get({ outcome: 'OK' });
      await world.rpc('suspendActor', { actorRef: { atespace: 'web', name: 'inherits' } });
      await sleep(4_000);
      expect(await statusOf('inherits')).toBe(ateapi.Actor_Status.STATUS_SUSPENDED);
      expect(world.metrics.idleSuspensions.get({ outcome: 'OK' })).toBe(before);
    }, 60_000);

    it('refuses an invalid timeout at CreateActor with a clear INVALID_ARGUMENT', async () => {
      const refused = await world
        .rpc('createActor', {
          actorRef: { atespace: 'web', name: 'typo' },
          actorTemplateNamespace: 'default',
          actorTemplateName: 'web',
          annotations: { [IDLE]: '5 mins' },
        })
        .then(
          () => undefined,
          (error: { code: number; details: string }) => error,
        );
      expect(refused).toMatchObject({
        code: status.INVALID_ARGUMENT,
        details:
          'invalid annotation "substrate.ate.dev/idle-suspend-after": "5 mins" is not a duration: expected a duration such as 30s, 5m or 1h30m, or 0 or off to disable',
      });
      await expect(
        world.rpc('getActor', { actorRef: { atespace: 'web', name: 'typo' } }),
      ).rejects.toMatchObject({ code: status.NOT_FOUND });
    });

    it('refuses to boot ateapi on a template with an invalid timeout, naming the template and the value', async () => {
      const bad = MANIFESTS.replace(
        'substrate.ate.dev/idle-suspend-after: 2s',
        'substrate.ate.dev/idle-suspend-after: 2x',
      );
      await expect(bootAteapi(bad)).rejects.toThrow(
        /ActorTemplate\.ate\.dev "lazy" is invalid: metadata\.annotations\[substrate\.ate\.dev\/idle-suspend-after\]: "2x" has an unknown unit "x"/,
      );
    }, 60_000);
  });
});
