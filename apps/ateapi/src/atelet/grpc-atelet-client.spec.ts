import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atelet } from '@substrate/proto';
import { ConfigError, Settings } from '@substrate/service';
import { ControlError } from '../errors/control-error';
import { GrpcAteletClient, LruCache, loadAteletClientConfig } from './grpc-atelet-client';

describe('LruCache', () => {
  it('evicts the least recently used entry beyond its capacity, and everything on clear', () => {
    const evicted: string[] = [];
    const cache = new LruCache<string, string>(2, (value) => evicted.push(value));
    cache.getOrCreate('a', () => 'A');
    cache.getOrCreate('b', () => 'B');
    expect(cache.getOrCreate('a', () => 'A2')).toBe('A'); // a is now the most recently used
    cache.getOrCreate('c', () => 'C');
    expect(evicted).toEqual(['B']);
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true]);
    cache.clear();
    expect(evicted).toEqual(['B', 'A', 'C']);
    expect(cache.size).toBe(0);
  });

  it('refuses a capacity below one', () => {
    expect(() => new LruCache(0, () => undefined)).toThrow(RangeError);
  });
});

describe('loadAteletClientConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ateapi-atelet-tls-'));
    for (const name of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, name), `-- ${name} --`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const load = (env: Record<string, string>) => loadAteletClientConfig(new Settings(env));
  const problem = (env: Record<string, string>) => {
    try {
      load(env);
    } catch (error) {
      if (error instanceof ConfigError) return [error.setting, error.message];
      throw error;
    }
    return undefined;
  };

  it('is plaintext with 1024 connections by default, as upstream', () => {
    expect(load({})).toEqual({ maxConnections: 1024 });
  });

  it('reads the CA and the client certificate when TLS is configured', () => {
    const config = load({
      ATEAPI_ATELET_TLS_CA_FILE: join(dir, 'ca.pem'),
      ATEAPI_ATELET_TLS_CERT_FILE: join(dir, 'cert.pem'),
      ATEAPI_ATELET_TLS_KEY_FILE: join(dir, 'key.pem'),
      ATEAPI_ATELET_TLS_SERVER_NAME: 'atelet.ate-system.svc',
      ATEAPI_ATELET_MAX_CONNECTIONS: '8',
    });
    expect(config.maxConnections).toBe(8);
    expect(config.tls?.ca.toString()).toBe('-- ca.pem --');
    expect(config.tls?.clientCert?.key.toString()).toBe('-- key.pem --');
    expect(config.tls?.serverName).toBe('atelet.ate-system.svc');
  });

  it('names the setting that is wrong', () => {
    expect(problem({ ATEAPI_ATELET_TLS_CERT_FILE: join(dir, 'cert.pem') })?.[0]).toBe(
      'ATEAPI_ATELET_TLS_CERT_FILE',
    );
    expect(
      problem({
        ATEAPI_ATELET_TLS_CA_FILE: join(dir, 'ca.pem'),
        ATEAPI_ATELET_TLS_CERT_FILE: join(dir, 'cert.pem'),
      }),
    ).toEqual([
      'ATEAPI_ATELET_TLS_KEY_FILE',
      expect.stringContaining('other half of the client certificate'),
    ]);
    expect(problem({ ATEAPI_ATELET_TLS_CA_FILE: join(dir, 'missing.pem') })).toEqual([
      'ATEAPI_ATELET_TLS_CA_FILE',
      expect.stringContaining('cannot read'),
    ]);
    expect(problem({ ATEAPI_ATELET_MAX_CONNECTIONS: '0' })?.[0]).toBe('ATEAPI_ATELET_MAX_CONNECTIONS');
  });
});

describe('GrpcAteletClient without a server', () => {
  const request = atelet.RunRequest.create({ targetAteomUid: 'w-0', actorId: 'alpha' });
  const soon = () => new Date(Date.now() + 5_000);

  it('answers UNAVAILABLE for an endpoint grpc-js cannot parse', async () => {
    const client = new GrpcAteletClient();
    const error = await client.run('unix-abstract:', request, soon()).catch((e: unknown) => e);
    await client.close();
    expect(error).toBeInstanceOf(ControlError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('answers UNAVAILABLE after close() and keeps no connection', async () => {
    const client = new GrpcAteletClient();
    await client.close();
    await expect(
      client.restore('127.0.0.1:1', atelet.RestoreRequest.create({ actorId: 'alpha' }), soon()),
    ).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'atelet client is closed',
    });
    expect(client.connections).toBe(0);
  });
});
