// atenet with a real ateapi process on real Redis, a fake atelet, and real HTTP servers standing in for
// the workers' sandboxes: routing by Host and by header, malformed and unknown actors, one ResumeActor
// for 100 concurrent requests, deadlines, websockets, SSE, the route cache, and idle auto-suspend.
import { request as httpRequest } from 'node:http';
import { status } from '@grpc/grpc-js';
import { ateapi } from '@substrate/proto';
import { describeWithComponents } from '@substrate/testing';
import WebSocket from 'ws';
import { hostOf, type RouterWorld, startRouterWorld } from './router-harness';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
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
      for (const name of ['quiet', 'chatty']) {
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

    const statusOf = async (name: string) =>
      (await world.rpc<ateapi.GetActorResponse>('getActor', { actorRef: { atespace: 'web', name } })).actor
        ?.status;

    it('suspends an actor idle past its timeout, but not one with an open websocket', async () => {
      expect((await get(world, '/', { host: hostOf('quiet') })).status).toBe(200);
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
      expect(world.metrics.idleSuspensions.get({ outcome: 'OK' })).toBe(1);
      socket.close();
      for (let i = 0; i < 40 && (await statusOf('chatty')) !== ateapi.Actor_Status.STATUS_SUSPENDED; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(await statusOf('chatty')).toBe(ateapi.Actor_Status.STATUS_SUSPENDED);
      void status;
    }, 30_000);
  });
});
