// ateapi in jwt mode, end to end: every gRPC service and the REST gateway refuse calls without a valid
// bearer token (issuer, audience, signature from a JWKS served by the test), and accept signed ones.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metadata, status } from '@grpc/grpc-js';
import { describeWithComponents } from '@substrate/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { MemoryCatalog } from '../src/catalog/catalog';
import { call, failure, type RunningAteapi, startAteapi } from './ateapi-harness';

const AUDIENCE = 'api.ate-system.svc';

describeWithComponents(['redis-server'], 'ateapi with ATEAPI_AUTH_MODE=jwt', () => {
  let api: RunningAteapi;
  let jwks: Server;
  let issuer = '';
  let sign: (claims: { iss?: string; aud?: string; exp?: number }) => Promise<string>;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    sign = ({ iss = issuer, aud = AUDIENCE, exp = Math.floor(Date.now() / 1000) + 600 }) =>
      new SignJWT({ sub: 'system:serviceaccount:ate-system:ate-client' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
        .setIssuer(iss)
        .setAudience(aud)
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(privateKey);
    api = await startAteapi({
      redis: 'standalone',
      catalog: new MemoryCatalog(),
      env: {
        ATEAPI_AUTH_MODE: 'jwt',
        ATEAPI_JWT_ISSUER: issuer,
        ATEAPI_JWT_AUDIENCE: AUDIENCE,
        ATEAPI_JWT_JWKS_URL: `${issuer}/jwks`,
      },
    });
  });
  afterAll(async () => {
    await api?.close();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  const bearer = (token: string) => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    return metadata;
  };

  it('refuses gRPC calls without a valid token, on every service', async () => {
    expect(await failure(call(api.control, 'listAtespaces', {}))).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'missing bearer token',
    });
    expect(
      await failure(
        call(api.registry, 'reportWorkers', {
          nodeName: 'n',
          ateletEndpoint: '127.0.0.1:1',
          workers: [],
          leaseSeconds: 0,
        }),
      ),
    ).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'missing bearer token',
    });
    for (const token of [
      await sign({ aud: 'someone-else' }),
      await sign({ iss: 'https://evil.example' }),
      await sign({ exp: Math.floor(Date.now() / 1000) - 3600 }),
      'not.a.jwt',
    ]) {
      expect(await failure(call(api.control, 'listAtespaces', {}, 5_000, bearer(token)))).toMatchObject({
        code: status.UNAUTHENTICATED,
        details: expect.stringMatching(/^invalid bearer token: /) as unknown as string,
      });
    }
  });

  it('accepts a signed token', async () => {
    await expect(call(api.control, 'listAtespaces', {}, 5_000, bearer(await sign({})))).resolves.toEqual({
      atespaces: expect.any(Array) as unknown,
    });
  });

  it('guards the REST gateway too, but not health', async () => {
    const denied = await fetch(`${api.httpUrl}/v1/atespaces`);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ code: 'UNAUTHENTICATED', message: 'missing bearer token' });
    const allowed = await fetch(`${api.httpUrl}/v1/atespaces`, {
      headers: { authorization: `Bearer ${await sign({})}` },
    });
    expect(allowed.status).toBe(200);
    expect((await fetch(`${api.httpUrl}/healthz`)).status).toBe(200);
  });
});
