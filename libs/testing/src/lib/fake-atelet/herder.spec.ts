import { status } from '@grpc/grpc-js';
import { FakeAteletStatus, FakeHerder, validateRequest } from './herder';
import {
  type AteletRequest,
  CHECKPOINT_TYPE_EXTERNAL,
  CHECKPOINT_TYPE_LOCAL,
  SNAPSHOT_SCOPE_DATA,
} from './proto';
import { fakeWorkerRegistrations } from './types';

function runRequest(uid: string, actorId: string, atespace = 'demo'): AteletRequest {
  return {
    targetAteomUid: uid,
    actorTemplateNamespace: 'default',
    actorTemplateName: 'counter.v1',
    actorId,
    actorAtespace: atespace,
  };
}

function localSnapshot(uid: string, actorId: string): AteletRequest {
  return {
    ...runRequest(uid, actorId),
    type: CHECKPOINT_TYPE_LOCAL,
    localConfig: { snapshotPrefix: `/var/lib/snapshots/${actorId}` },
    scope: SNAPSHOT_SCOPE_DATA,
  };
}

async function statusOf(promise: Promise<unknown>): Promise<FakeAteletStatus> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FakeAteletStatus) return error;
    throw error;
  }
  throw new Error('expected a status');
}

describe('FakeHerder', () => {
  const herder = () => new FakeHerder({ latencyMs: [0, 0] });

  it('keeps an actor on its worker until a checkpoint frees it', async () => {
    const h = herder();
    await h.handle('run', runRequest('w-0', 'alpha'));
    expect(h.workerStates()).toEqual([
      { uid: 'w-0', actor: 'demo/alpha', template: 'default/counter.v1', loads: 1, checkpoints: 0 },
    ]);
    await h.handle('checkpoint', localSnapshot('w-0', 'alpha'));
    await h.handle('restore', localSnapshot('w-0', 'beta'));
    expect(h.workerStates()[0]).toMatchObject({ actor: 'demo/beta', loads: 2, checkpoints: 1 });
    expect(h.calls().map((call) => call.snapshot)).toEqual([
      undefined,
      '/var/lib/snapshots/alpha',
      '/var/lib/snapshots/beta',
    ]);
    expect(h.violations()).toEqual([]);
  });

  it('replaces the actor of an occupied worker when told not to reject, still recording the violation', async () => {
    const h = new FakeHerder({ latencyMs: [0, 0], rejectBusyWorker: false });
    await h.handle('run', runRequest('w-0', 'alpha'));
    await h.handle('run', runRequest('w-0', 'beta'));
    expect(h.workerStates()[0]?.actor).toBe('demo/beta');
    expect(h.violations()).toEqual([
      {
        seq: 2,
        method: 'run',
        workerUid: 'w-0',
        held: 'demo/alpha',
        requested: 'demo/beta',
        concurrent: false,
      },
    ]);
  });

  it('marks a violation as concurrent when the held actor still has a call in progress on the worker', async () => {
    const h = new FakeHerder({ latencyMs: [0, 0], rejectBusyWorker: false });
    h.addFault({ method: 'restore', delayMs: 50 });
    const slow = h.handle('restore', localSnapshot('w-0', 'alpha'));
    await h.handle('run', runRequest('w-0', 'beta'));
    await slow;
    await h.handle('run', runRequest('w-0', 'gamma'));
    expect(h.violations().map((v) => [v.requested, v.held, v.concurrent])).toEqual([
      ['demo/beta', 'demo/alpha', true],
      ['demo/gamma', 'demo/beta', false],
    ]);
  });

  it('consumes faults in order and only for matching calls', async () => {
    const h = herder();
    h.addFault({ method: 'restore', workerUid: 'w-1', code: status.INTERNAL, message: 'disk full' });
    h.addFault({ code: status.UNAVAILABLE, count: 2 });
    expect((await statusOf(h.handle('run', runRequest('w-0', 'alpha')))).code).toBe(status.UNAVAILABLE);
    const restore = await statusOf(h.handle('restore', localSnapshot('w-1', 'beta')));
    expect([restore.code, restore.message]).toEqual([status.INTERNAL, 'disk full']);
    const second = await statusOf(h.handle('run', runRequest('w-0', 'alpha')));
    expect([second.code, second.message]).toEqual([status.UNAVAILABLE, 'injected fault']);
    await h.handle('run', runRequest('w-0', 'alpha'));
    expect(h.stats()).toEqual({ run: { UNAVAILABLE: 2, OK: 1 }, restore: { INTERNAL: 1 }, checkpoint: {} });
  });

  it('keeps a fault marked "always" until the faults are cleared', async () => {
    const h = herder();
    h.addFault({ method: 'checkpoint', count: 'always', code: status.ABORTED });
    await h.handle('run', runRequest('w-0', 'alpha'));
    for (let i = 0; i < 3; i++) {
      expect((await statusOf(h.handle('checkpoint', localSnapshot('w-0', 'alpha')))).code).toBe(
        status.ABORTED,
      );
    }
    h.clearFaults();
    await expect(h.handle('checkpoint', localSnapshot('w-0', 'alpha'))).resolves.toHaveProperty(
      'snapshotFiles',
    );
  });

  it('rejects malformed faults and latencies', () => {
    const h = herder();
    expect(() => h.addFault({})).toThrow('a fault needs a code, a delayMs, or both');
    expect(() => h.addFault({ code: 14, count: 0 })).toThrow(/count must be a positive integer/);
    expect(() => h.addFault({ code: 14, method: 'Run' as never })).toThrow(/unknown method "Run"/);
    expect(() => h.setLatency([5, 1])).toThrow(/0 <= min <= max/);
  });

  it('bounds the call log but keeps counting', async () => {
    const h = new FakeHerder({ latencyMs: [0, 0], callLogLimit: 2 });
    for (const id of ['a', 'b', 'c']) await h.handle('run', runRequest(`w-${id}`, id));
    expect(h.calls().map((call) => call.seq)).toEqual([2, 3]);
    expect(h.stats().run).toEqual({ OK: 3 });
  });

  it('answers NOT_FOUND for workers it does not drive once it knows its workers', async () => {
    const h = new FakeHerder({ latencyMs: [0, 0] });
    h.addKnownWorkers(fakeWorkerRegistrations(2).map((worker) => worker.workerPodUid));
    await h.handle('run', runRequest('pool-uid-1', 'alpha'));
    const error = await statusOf(h.handle('run', runRequest('pool-uid-2', 'alpha')));
    expect([error.code, error.message]).toEqual([status.NOT_FOUND, 'ateom pool-uid-2 not found']);
  });

  it('forgets everything on reset', async () => {
    const h = herder();
    await h.handle('run', runRequest('w-0', 'alpha'));
    h.addFault({ code: status.INTERNAL });
    h.reset();
    await h.handle('run', runRequest('w-0', 'beta'));
    expect(h.calls()).toHaveLength(1);
    expect(h.workerStates()[0]?.actor).toBe('demo/beta');
  });
});

describe("atelet's request validation", () => {
  const invalid = (method: 'run' | 'checkpoint', request: AteletRequest) => {
    try {
      validateRequest(method, request);
    } catch (error) {
      if (error instanceof FakeAteletStatus && error.code === status.INVALID_ARGUMENT) return error.message;
      throw error;
    }
    return undefined;
  };

  it('accepts well-formed requests', () => {
    expect(invalid('run', runRequest('w-0', 'alpha'))).toBeUndefined();
    expect(invalid('checkpoint', localSnapshot('w-0', 'alpha'))).toBeUndefined();
    const external: AteletRequest = {
      ...localSnapshot('w-0', 'alpha'),
      type: CHECKPOINT_TYPE_EXTERNAL,
      localConfig: null,
      externalConfig: { snapshotUriPrefix: 's3://bucket/demo/alpha' },
    };
    expect(invalid('checkpoint', external)).toBeUndefined();
  });

  it.each([
    ['template namespace', { actorTemplateNamespace: 'Default' }, 'actor_template_namespace'],
    ['template name', { actorTemplateName: 'a..b' }, 'actor_template_name'],
    ['actor id', { actorId: 'x'.repeat(64) }, 'actor_id'],
    ['atespace', { actorAtespace: '-demo' }, 'actor_atespace'],
    ['worker uid', { targetAteomUid: '' }, 'target_ateom_uid'],
    ['pause container', { spec: { containers: [{ name: 'pause' }] } }, 'reserved'],
    ['duplicate container', { spec: { containers: [{ name: 'a' }, { name: 'a' }] } }, 'duplicate'],
  ])('rejects a bad %s', (_what, change, phrase) => {
    const request: AteletRequest = { ...runRequest('w-0', 'alpha'), ...change };
    expect(invalid('run', request)).toContain(phrase);
  });

  it.each([
    ['no scope', { scope: 0 }, 'scope must be'],
    ['no type', { type: 0 }, 'type must be'],
    ['empty local prefix', { localConfig: { snapshotPrefix: '' } }, 'non-empty'],
    ['external without config', { type: CHECKPOINT_TYPE_EXTERNAL }, 'needs external_config'],
    [
      'external without host',
      { type: CHECKPOINT_TYPE_EXTERNAL, externalConfig: { snapshotUriPrefix: 's3:///x' } },
      'no host',
    ],
    [
      'external with query',
      { type: CHECKPOINT_TYPE_EXTERNAL, externalConfig: { snapshotUriPrefix: 'gs://b/x?y=1' } },
      'no user info, query or fragment',
    ],
  ] as const)('rejects a checkpoint with %s', (_what, change, phrase) => {
    const request: AteletRequest = { ...localSnapshot('w-0', 'alpha'), ...change };
    expect(invalid('checkpoint', request)).toContain(phrase);
  });
});
