// ateapi.Control through a raw gRPC client generated from our proto, against a real Redis — standalone
// and a 3-master cluster: every RPC's happy path and the error paths with upstream's codes and messages.
import { status } from '@grpc/grpc-js';
import { ateapi } from '@substrate/proto';
import { describeWithComponents } from '@substrate/testing';
import { MemoryCatalog } from '../src/catalog/catalog';
import {
  call,
  failure,
  pool,
  type RedisMode,
  type RunningAteapi,
  sandboxConfig,
  startAteapi,
  template,
} from './ateapi-harness';

const ref = (name: string, atespace = 'team-a'): ateapi.ActorRef => ({ atespace, name });
const IDLE = 'substrate.ate.dev/idle-suspend-after';

describeWithComponents(['redis-server'], 'ateapi.Control over gRPC', () => {
  describe.each<RedisMode>(['standalone', 'cluster'])('on %s Redis', (mode) => {
    let api: RunningAteapi;
    const lazy = template('lazy');
    lazy.metadata.annotations = { [IDLE]: '5m' };
    const catalog = new MemoryCatalog([template('counter'), lazy, pool('pool'), sandboxConfig()]);

    beforeAll(async () => {
      api = await startAteapi({ redis: mode, catalog, env: { ATEAPI_DEBUG_CLEAR: 'true' } });
    });
    afterAll(async () => {
      await api?.close();
    });
    beforeEach(async () => {
      await call(api.control, 'debugClear', {});
      await call(api.control, 'createAtespace', { name: 'team-a' });
    });

    const create = (name: string, atespace = 'team-a', selector?: Record<string, string>) =>
      call(api.control, 'createActor', {
        actorRef: ref(name, atespace),
        actorTemplateNamespace: 'default',
        actorTemplateName: 'counter',
        workerSelector: selector ? { matchLabels: selector } : undefined,
        annotations: {},
      });

    describe('atespaces', () => {
      it('creates, gets, lists and deletes an empty atespace', async () => {
        await expect(call(api.control, 'createAtespace', { name: 'team-b' })).resolves.toEqual({
          atespace: { name: 'team-b' },
        });
        await expect(call(api.control, 'getAtespace', { name: 'team-b' })).resolves.toEqual({
          atespace: { name: 'team-b' },
        });
        const { atespaces } = await call(api.control, 'listAtespaces', {});
        expect(atespaces.map((a) => a.name).sort()).toEqual(['team-a', 'team-b']);
        await call(api.control, 'deleteAtespace', { name: 'team-b' });
        expect(await failure(call(api.control, 'getAtespace', { name: 'team-b' }))).toEqual({
          code: status.NOT_FOUND,
          details: 'Atespace team-b not found',
        });
      });

      it('refuses duplicates, bad names and deleting a non-empty atespace', async () => {
        expect(await failure(call(api.control, 'createAtespace', { name: 'team-a' }))).toEqual({
          code: status.ALREADY_EXISTS,
          details: 'Atespace team-a already exists',
        });
        expect(await failure(call(api.control, 'createAtespace', { name: '' }))).toEqual({
          code: status.INVALID_ARGUMENT,
          details: 'name is required',
        });
        expect(await failure(call(api.control, 'createAtespace', { name: 'Team_A' }))).toEqual({
          code: status.INVALID_ARGUMENT,
          details:
            "invalid atespace: must start and end with a lower case alphanumeric character, and consist only of lower case alphanumeric characters or '-'",
        });
        expect(await failure(call(api.control, 'createAtespace', { name: 'a'.repeat(64) }))).toEqual({
          code: status.INVALID_ARGUMENT,
          details: 'invalid atespace: must be no more than 63 characters',
        });
        await create('one');
        expect(await failure(call(api.control, 'deleteAtespace', { name: 'team-a' }))).toEqual({
          code: status.FAILED_PRECONDITION,
          details: 'Atespace team-a is not empty',
        });
        // The refused delete leaves the atespace usable.
        await expect(create('two')).resolves.toBeDefined();
        expect(await failure(call(api.control, 'deleteAtespace', { name: 'nope' }))).toEqual({
          code: status.NOT_FOUND,
          details: 'Atespace nope not found',
        });
      });
    });

    describe('actors', () => {
      it('creates an actor SUSPENDED at version 1 and reads it back', async () => {
        const { actor } = await create('alpha', 'team-a', { tier: 'gold' });
        expect(actor).toMatchObject({
          actorId: 'alpha',
          atespace: 'team-a',
          version: 1,
          actorTemplateNamespace: 'default',
          actorTemplateName: 'counter',
          status: ateapi.Actor_Status.STATUS_SUSPENDED,
          workerSelector: { matchLabels: { tier: 'gold' } },
          ateomPodName: '',
        });
        await expect(call(api.control, 'getActor', { actorRef: ref('alpha') })).resolves.toEqual({ actor });
      });

      it('refuses bad create requests precisely and stores nothing', async () => {
        const cases: [Partial<ateapi.CreateActorRequest>, number, string][] = [
          [{ actorTemplateNamespace: '' }, status.INVALID_ARGUMENT, 'actor_template_namespace is required'],
          [{ actorTemplateName: '' }, status.INVALID_ARGUMENT, 'actor_template_name is required'],
          [{ actorRef: ref('') }, status.INVALID_ARGUMENT, 'actor_id is required'],
          [
            { actorRef: ref('Bad.Name') },
            status.INVALID_ARGUMENT,
            "invalid actor_id: must start and end with a lower case alphanumeric character, and consist only of lower case alphanumeric characters or '-'",
          ],
          [
            { actorRef: ref('x'.repeat(64)) },
            status.INVALID_ARGUMENT,
            'invalid actor_id: must be no more than 63 characters',
          ],
          [{ actorRef: ref('ok', '') }, status.INVALID_ARGUMENT, 'atespace is required'],
          [
            { actorTemplateName: 'missing' },
            status.FAILED_PRECONDITION,
            'ActorTemplate default/missing not found',
          ],
          [{ actorRef: ref('ok', 'nowhere') }, status.FAILED_PRECONDITION, 'Atespace nowhere not found'],
          [
            {
              workerSelector: {
                matchLabels: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])),
              },
            },
            status.INVALID_ARGUMENT,
            'worker_selector has 11 match_labels entries, exceeding the limit of 10',
          ],
          [
            { workerSelector: { matchLabels: { 'bad key!': 'v' } } },
            status.INVALID_ARGUMENT,
            expect.stringMatching(
              /^invalid worker_selector label key "bad key!": name part must consist/,
            ) as unknown as string,
          ],
          [
            { workerSelector: { matchLabels: { tier: '-gold' } } },
            status.INVALID_ARGUMENT,
            expect.stringMatching(
              /^invalid worker_selector label value "-gold" for key "tier": a valid label/,
            ) as unknown as string,
          ],
          [
            { annotations: { [IDLE]: '5 minutes' } },
            status.INVALID_ARGUMENT,
            'invalid annotation "substrate.ate.dev/idle-suspend-after": "5 minutes" is not a duration: expected a duration such as 30s, 5m or 1h30m, or 0 or off to disable',
          ],
          [
            { annotations: { [IDLE]: '-1m' } },
            status.INVALID_ARGUMENT,
            expect.stringMatching(
              /^invalid annotation "substrate.ate.dev\/idle-suspend-after": "-1m" is negative/,
            ) as unknown as string,
          ],
          [
            { annotations: { 'bad key!': 'x' } },
            status.INVALID_ARGUMENT,
            expect.stringMatching(
              /^invalid annotation key "bad key!": name part must consist/,
            ) as unknown as string,
          ],
        ];
        for (const [override, code, details] of cases) {
          const request: ateapi.CreateActorRequest = {
            actorRef: ref('ok'),
            actorTemplateNamespace: 'default',
            actorTemplateName: 'counter',
            workerSelector: undefined,
            annotations: {},
            ...override,
          };
          expect(await failure(call(api.control, 'createActor', request))).toEqual({ code, details });
        }
        const { actors } = await call(api.control, 'listActors', {
          pageSize: 0,
          pageToken: '',
          atespace: '',
        });
        expect(actors).toEqual([]);
      });

      it('stores annotations, and answers the idle timeout of the actor, else of its template', async () => {
        const createFrom = (name: string, templateName: string, annotations: Record<string, string> = {}) =>
          call(api.control, 'createActor', {
            actorRef: ref(name),
            actorTemplateNamespace: 'default',
            actorTemplateName: templateName,
            workerSelector: undefined,
            annotations,
          });
        const own = await createFrom('own', 'lazy', { [IDLE]: '30s', 'example.com/owner': 'team a' });
        expect(own.actor).toMatchObject({
          annotations: { [IDLE]: '30s', 'example.com/owner': 'team a' },
          idleSuspendAfterMs: 30_000,
        });
        expect((await createFrom('off', 'lazy', { [IDLE]: 'off' })).actor?.idleSuspendAfterMs).toBe(0);
        expect((await createFrom('inherits', 'lazy')).actor?.idleSuspendAfterMs).toBe(300_000);
        const plain = await create('plain');
        expect(plain.actor?.annotations).toEqual({});
        expect(plain.actor?.idleSuspendAfterMs).toBeUndefined();
        await expect(call(api.control, 'getActor', { actorRef: ref('own') })).resolves.toEqual(own);
        const { actors } = await call(api.control, 'listActors', {
          pageSize: 0,
          pageToken: '',
          atespace: '',
        });
        expect(Object.fromEntries(actors.map((actor) => [actor.actorId, actor.idleSuspendAfterMs]))).toEqual({
          own: 30_000,
          off: 0,
          inherits: 300_000,
          plain: undefined,
        });
      });

      it('refuses a duplicate, and the same id is fine in another atespace', async () => {
        await create('alpha');
        expect(await failure(create('alpha'))).toEqual({
          code: status.ALREADY_EXISTS,
          details: 'Actor alpha already exists',
        });
        await call(api.control, 'createAtespace', { name: 'team-b' });
        await expect(create('alpha', 'team-b')).resolves.toMatchObject({
          actor: { atespace: 'team-b', actorId: 'alpha' },
        });
      });

      it('GetActor: required fields and NOT_FOUND', async () => {
        expect(await failure(call(api.control, 'getActor', { actorRef: ref('') }))).toEqual({
          code: status.INVALID_ARGUMENT,
          details: 'id is required',
        });
        expect(await failure(call(api.control, 'getActor', { actorRef: ref('a', '') }))).toEqual({
          code: status.INVALID_ARGUMENT,
          details: 'atespace is required',
        });
        expect(await failure(call(api.control, 'getActor', { actorRef: ref('ghost') }))).toEqual({
          code: status.NOT_FOUND,
          details: 'Actor ghost not found',
        });
      });

      it('UpdateActor replaces the selector and bumps the version', async () => {
        await create('alpha', 'team-a', { tier: 'gold' });
        const { actor } = await call(api.control, 'updateActor', {
          actorRef: ref('alpha'),
          workerSelector: { matchLabels: { zone: 'b' } },
        });
        expect(actor).toMatchObject({ version: 2, workerSelector: { matchLabels: { zone: 'b' } } });
        const cleared = await call(api.control, 'updateActor', {
          actorRef: ref('alpha'),
          workerSelector: undefined,
        });
        expect(cleared.actor?.workerSelector).toBeUndefined();
        expect(
          await failure(
            call(api.control, 'updateActor', { actorRef: ref('ghost'), workerSelector: undefined }),
          ),
        ).toEqual({ code: status.NOT_FOUND, details: 'Actor ghost not found' });
        expect(
          await failure(call(api.control, 'updateActor', { actorRef: ref(''), workerSelector: undefined })),
        ).toEqual({ code: status.INVALID_ARGUMENT, details: 'actor_id is required' });
      });

      it('DeleteActor removes a suspended actor; errors for the rest', async () => {
        await create('alpha');
        await expect(call(api.control, 'deleteActor', { actorRef: ref('alpha') })).resolves.toEqual({});
        expect(await failure(call(api.control, 'deleteActor', { actorRef: ref('alpha') }))).toEqual({
          code: status.NOT_FOUND,
          details: 'Actor alpha not found',
        });
        expect(await failure(call(api.control, 'deleteActor', { actorRef: ref('UP') }))).toMatchObject({
          code: status.INVALID_ARGUMENT,
        });
        expect(await failure(call(api.control, 'deleteActor', { actorRef: ref('a', '') }))).toEqual({
          code: status.INVALID_ARGUMENT,
          details: 'atespace is required',
        });
      });

      it('Resume/Suspend/Pause: NOT_FOUND for a missing actor, INVALID_ARGUMENT for missing fields', async () => {
        for (const method of ['resumeActor', 'suspendActor', 'pauseActor'] as const) {
          expect(await failure(call(api.control, method, { actorRef: ref('ghost'), boot: false }))).toEqual({
            code: status.NOT_FOUND,
            details: 'Actor ghost not found',
          });
          expect(await failure(call(api.control, method, { actorRef: ref(''), boot: false }))).toEqual({
            code: status.INVALID_ARGUMENT,
            details: 'id is required',
          });
        }
      });

      it('Resume with no eligible pool or no worker: FAILED_PRECONDITION, actor unchanged', async () => {
        await create('picky', 'team-a', { tier: 'platinum' });
        expect(
          await failure(call(api.control, 'resumeActor', { actorRef: ref('picky'), boot: false })),
        ).toEqual({
          code: status.FAILED_PRECONDITION,
          details: "no worker pool matches the template's sandboxClass and the template/actor selectors",
        });
        await create('plain');
        // No worker is registered, and the capacity wait is bounded.
        expect(
          await failure(call(api.control, 'resumeActor', { actorRef: ref('plain'), boot: false })),
        ).toEqual({ code: status.FAILED_PRECONDITION, details: 'no free workers available' });
        const { actor } = await call(api.control, 'getActor', { actorRef: ref('plain') });
        expect(actor).toMatchObject({ status: ateapi.Actor_Status.STATUS_SUSPENDED, version: 1 });
      }, 20_000);
    });

    describe('ListActors', () => {
      it('pages through every actor exactly once, per atespace or across all', async () => {
        await call(api.control, 'createAtespace', { name: 'team-b' });
        const names = Array.from({ length: 57 }, (_, i) => `actor-${i}`);
        await Promise.all(names.map((name) => create(name)));
        await Promise.all(names.slice(0, 5).map((name) => create(name, 'team-b')));
        const collect = async (atespace: string, pageSize: number) => {
          const seen: string[] = [];
          let pageToken = '';
          let pages = 0;
          do {
            const page = await call(api.control, 'listActors', { pageSize, pageToken, atespace });
            seen.push(...page.actors.map((a) => `${a.atespace}/${a.actorId}`));
            pageToken = page.nextPageToken;
            pages++;
          } while (pageToken && pages < 1000);
          return seen;
        };
        const teamA = await collect('team-a', 10);
        expect(new Set(teamA).size).toBe(57);
        expect(teamA.every((n) => n.startsWith('team-a/'))).toBe(true);
        const all = await collect('', 0);
        expect(new Set(all).size).toBe(62);
      });

      it('refuses bad page sizes, atespaces and tokens', async () => {
        expect(
          await failure(call(api.control, 'listActors', { pageSize: -1, pageToken: '', atespace: '' })),
        ).toEqual({ code: status.INVALID_ARGUMENT, details: 'page_size cannot be negative' });
        expect(
          await failure(call(api.control, 'listActors', { pageSize: 1001, pageToken: '', atespace: '' })),
        ).toEqual({
          code: status.INVALID_ARGUMENT,
          details: 'page_size 1001 exceeds maximum page size 1000',
        });
        expect(
          await failure(call(api.control, 'listActors', { pageSize: 1, pageToken: '', atespace: 'Bad' })),
        ).toMatchObject({ code: status.INVALID_ARGUMENT });
        for (const pageToken of [
          'garbage!',
          Buffer.from('{"m":"x","c":"0"}').toString('base64url'),
          Buffer.from('[]').toString('base64url'),
        ]) {
          expect(
            await failure(call(api.control, 'listActors', { pageSize: 1, pageToken, atespace: '' })),
          ).toMatchObject({
            code: status.INVALID_ARGUMENT,
            details: expect.stringMatching(/^invalid page token: /) as unknown as string,
          });
        }
      });
    });

    it('ListWorkers lists registered workers', async () => {
      await call(api.registry, 'reportWorkers', {
        nodeName: 'node-1',
        ateletEndpoint: '127.0.0.1:1',
        leaseSeconds: 30,
        workers: [
          {
            workerNamespace: 'default',
            workerPool: 'pool',
            workerPod: 'pool-0',
            ip: '127.0.0.1',
            workerPodUid: 'uid-0',
            httpPort: 9000,
          },
        ],
      });
      const { workers } = await call(api.control, 'listWorkers', {});
      expect(workers).toEqual([
        expect.objectContaining({
          workerPod: 'pool-0',
          workerPool: 'pool',
          nodeName: 'node-1',
          actorId: '',
          httpPort: 9000,
          ateletEndpoint: '127.0.0.1:1',
          version: 1,
        }),
      ]);
    });

    it("a node's report reads that node's workers, not every worker of the cluster", async () => {
      const registration = (node: string, pod: string) => ({
        nodeName: node,
        ateletEndpoint: '127.0.0.1:1',
        leaseSeconds: 30,
        workers: [
          {
            workerNamespace: 'default',
            workerPool: 'wide',
            workerPod: pod,
            ip: '127.0.0.1',
            workerPodUid: pod,
            httpPort: 1,
          },
        ],
      });
      for (let n = 0; n < 20; n++)
        await call(api.registry, 'reportWorkers', registration(`wide-${n}`, `wide-${n}`));
      const listing = jest.spyOn(api.plane.store, 'listWorkers');
      const reads = jest.spyOn(api.plane.store, 'getWorker');
      try {
        const again = await call(api.registry, 'reportWorkers', registration('wide-0', 'wide-0'));
        expect(again).toMatchObject({ added: 0, removed: 0 });
        expect(listing).not.toHaveBeenCalled();
        expect(reads.mock.calls.length).toBeLessThanOrEqual(2);
        // A worker the node no longer reports is still removed.
        const dropped = await call(api.registry, 'reportWorkers', {
          ...registration('wide-1', 'x'),
          workers: [],
        });
        expect(dropped).toMatchObject({ removed: 1 });
        expect(
          (await call(api.control, 'listWorkers', {})).workers.some((w) => w.workerPod === 'wide-1'),
        ).toBe(false);
      } finally {
        listing.mockRestore();
        reads.mockRestore();
      }
    });
  });

  it('DebugClear is refused unless enabled', async () => {
    const api = await startAteapi({ redis: 'standalone', catalog: new MemoryCatalog() });
    try {
      expect(await failure(call(api.control, 'debugClear', {}))).toMatchObject({
        code: status.PERMISSION_DENIED,
      });
    } finally {
      await api.close();
    }
  });
});
