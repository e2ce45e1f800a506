// The REST/JSON gateway over a real Redis: the same operations and messages as the gRPC API, gRPC
// codes mapped to HTTP statuses once, and the OpenAPI document served at /openapi.json.
import { describeWithComponents, startFakeAtelet, type FakeAtelet } from '@substrate/testing';
import { MemoryCatalog } from '../src/catalog/catalog';
import { call, pool, type RunningAteapi, sandboxConfig, startAteapi, template } from './ateapi-harness';

describeWithComponents(['redis-server'], 'ateapi REST gateway', () => {
  let api: RunningAteapi;
  let atelet: FakeAtelet;

  beforeAll(async () => {
    atelet = await startFakeAtelet();
    api = await startAteapi({
      redis: 'standalone',
      catalog: new MemoryCatalog([template('counter'), pool('pool'), sandboxConfig()]),
      env: { ATEAPI_DEBUG_CLEAR: 'true', ATEAPI_CAPACITY_WAIT_MS: '0' },
    });
  });
  afterAll(async () => {
    await api?.close();
    await atelet?.stop();
  });

  async function http(method: string, path: string, body?: unknown, raw?: string) {
    const response = await fetch(`${api.httpUrl}${path}`, {
      method,
      headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {},
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('walks an actor through its life over HTTP', async () => {
    await http('POST', '/v1/debug/clear');
    expect(await http('POST', '/v1/atespaces', { name: 'web' })).toEqual({
      status: 200,
      body: { atespace: { name: 'web' } },
    });
    const created = await http('POST', '/v1/atespaces/web/actors', {
      actorId: 'c1',
      actorTemplateNamespace: 'default',
      actorTemplateName: 'counter',
    });
    expect(created).toMatchObject({
      status: 200,
      body: { actor: { actorId: 'c1', atespace: 'web', status: 'STATUS_SUSPENDED', version: 1 } },
    });

    expect(await http('POST', '/v1/atespaces/web/actors/c1/resume')).toMatchObject({
      status: 412,
      body: { code: 'FAILED_PRECONDITION', message: 'no free workers available' },
    });
    await call(api.registry, 'reportWorkers', {
      nodeName: 'n1',
      ateletEndpoint: atelet.endpoint,
      leaseSeconds: 60,
      workers: [
        {
          workerNamespace: 'default',
          workerPool: 'pool',
          workerPod: 'pool-0',
          ip: '127.0.0.1',
          workerPodUid: 'u0',
          httpPort: 0,
        },
      ],
    });
    expect(await http('POST', '/v1/atespaces/web/actors/c1/resume', { boot: true })).toMatchObject({
      status: 200,
      body: { actor: { status: 'STATUS_RUNNING', ateomPodName: 'pool-0' } },
    });
    expect((await http('GET', '/v1/workers')).body).toMatchObject({
      workers: [{ workerPod: 'pool-0', actorId: 'c1' }],
    });
    expect(await http('DELETE', '/v1/atespaces/web/actors/c1')).toEqual({
      status: 412,
      body: { code: 'FAILED_PRECONDITION', message: 'Actor c1 is not suspended (status: STATUS_RUNNING)' },
    });
    expect(await http('POST', '/v1/atespaces/web/actors/c1/suspend')).toMatchObject({
      status: 200,
      body: { actor: { status: 'STATUS_SUSPENDED', latestSnapshotInfo: { type: 'SNAPSHOT_TYPE_EXTERNAL' } } },
    });
    expect(
      await http('PATCH', '/v1/atespaces/web/actors/c1', {
        workerSelector: { matchLabels: { tier: 'gold' } },
      }),
    ).toMatchObject({ status: 200, body: { actor: { workerSelector: { matchLabels: { tier: 'gold' } } } } });
    const listed = await http('GET', '/v1/atespaces/web/actors?pageSize=10');
    expect(listed).toMatchObject({ status: 200, body: { actors: [{ actorId: 'c1' }] } });
    expect(listed.body['nextPageToken']).toBeUndefined();
    expect(await http('DELETE', '/v1/atespaces/web/actors/c1')).toEqual({ status: 200, body: {} });
    expect(await http('GET', '/v1/atespaces/web/actors/c1')).toEqual({
      status: 404,
      body: { code: 'NOT_FOUND', message: 'Actor c1 not found' },
    });
    expect(await http('DELETE', '/v1/atespaces/web')).toEqual({ status: 200, body: {} });
  });

  it('answers bad input with precise 4xx errors', async () => {
    expect(await http('POST', '/v1/atespaces', undefined, '{"name": ')).toMatchObject({
      status: 400,
      body: { code: 'INVALID_ARGUMENT' },
    });
    expect(await http('POST', '/v1/atespaces', [1, 2])).toEqual({
      status: 400,
      body: { code: 'INVALID_ARGUMENT', message: 'the request body must be a JSON object' },
    });
    expect(await http('POST', '/v1/atespaces', { name: 42 })).toEqual({
      status: 400,
      body: { code: 'INVALID_ARGUMENT', message: 'name must be a string' },
    });
    expect(await http('GET', '/v1/actors?pageSize=ten')).toEqual({
      status: 400,
      body: { code: 'INVALID_ARGUMENT', message: 'pageSize must be an integer, got "ten"' },
    });
    expect(await http('GET', '/v1/actors?pageSize=5000')).toEqual({
      status: 400,
      body: { code: 'INVALID_ARGUMENT', message: 'page_size 5000 exceeds maximum page size 1000' },
    });
    expect(await http('GET', '/v1/actors?pageToken=zzz!')).toMatchObject({
      status: 400,
      body: { code: 'INVALID_ARGUMENT' },
    });
    expect(await http('POST', '/v1/atespaces', { name: 'dup' })).toMatchObject({ status: 200 });
    expect(await http('POST', '/v1/atespaces', { name: 'dup' })).toEqual({
      status: 409,
      body: { code: 'ALREADY_EXISTS', message: 'Atespace dup already exists' },
    });
    expect(await http('GET', '/v1/nowhere')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  });

  it('takes annotations at creation, refuses a bad idle timeout, and answers the effective one', async () => {
    await http('POST', '/v1/debug/clear');
    await http('POST', '/v1/atespaces', { name: 'notes' });
    const body = (annotations: unknown) => ({
      actorId: 'a1',
      actorTemplateNamespace: 'default',
      actorTemplateName: 'counter',
      annotations,
    });
    expect(
      await http(
        'POST',
        '/v1/atespaces/notes/actors',
        body({ 'substrate.ate.dev/idle-suspend-after': '1 hour' }),
      ),
    ).toEqual({
      status: 400,
      body: {
        code: 'INVALID_ARGUMENT',
        message:
          'invalid annotation "substrate.ate.dev/idle-suspend-after": "1 hour" is not a duration: expected a duration such as 30s, 5m or 1h30m, or 0 or off to disable',
      },
    });
    expect(await http('POST', '/v1/atespaces/notes/actors', body({ a: 1 }))).toEqual({
      status: 400,
      body: { code: 'INVALID_ARGUMENT', message: 'annotations["a"] must be a string' },
    });
    const created = await http(
      'POST',
      '/v1/atespaces/notes/actors',
      body({ 'substrate.ate.dev/idle-suspend-after': '1h30m' }),
    );
    expect(created).toMatchObject({
      status: 200,
      body: {
        actor: {
          annotations: { 'substrate.ate.dev/idle-suspend-after': '1h30m' },
          idleSuspendAfterMs: 5_400_000,
        },
      },
    });
  });

  it('serves its OpenAPI 3 document', async () => {
    const { status, body } = await http('GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body['openapi']).toMatch(/^3\./);
    expect(Object.keys(body['paths'] as object)).toContain('/v1/atespaces/{atespace}/actors/{actor}/resume');
  });
});
