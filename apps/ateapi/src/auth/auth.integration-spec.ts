// ateapi authentication end to end over loopback: a JWKS + OIDC discovery server run by the test, tokens
// the test signs, TLS certificates the test makes with openssl, and tiny Nest apps (a gRPC microservice
// and an HTTPS REST app) guarded by the real guards, errors mapped by ateapi's real exception filters;
// the assertions are what a client sees.
import 'reflect-metadata';
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { credentials, type ChannelCredentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import {
  Controller,
  Get,
  type INestApplication,
  type INestMicroservice,
  Module,
  Req,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { ateapi, ATEAPI_SERVICES, grpcMethod, nestGrpcPackageDefinition } from '@substrate/proto';
import { HealthController, Settings } from '@substrate/service';
import { describeWithComponents, freePort } from '@substrate/testing';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { createTestPki, type TestPki } from '../../test/test-pki';
import { ControlError } from '../errors/control-error';
import { GrpcExceptionFilter } from '../grpc/grpc-exception.filter';
import { HttpExceptionFilter } from '../rest/http-exception.filter';
import type { AuthConfig } from './auth-config';
import {
  Authenticator,
  AuthModule,
  GrpcAuthGuard,
  grpcServerCredentials,
  httpsOptions,
  loadAuthConfig,
  principalOf,
} from './index';

const AUDIENCE = 'api.ate-system.svc';
const SUBJECT = 'system:serviceaccount:ate-system:ate-client';
const nowSeconds = () => Math.floor(Date.now() / 1_000);

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly pair: KeyPair;
}

async function signingKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  return { kid, alg, pair: await generateKeyPair(alg, { extractable: true }) };
}

/** A loopback OIDC issuer: discovery document and JWKS, with request counts. */
class TestIssuer {
  readonly requests = { discovery: 0, jwks: 0 };
  /** Answer the discovery document with 503 while true. */
  discoveryDown = false;
  private keys: JWK[] = [];
  private server: HttpServer | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const send = (body: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.url === '/.well-known/openid-configuration') {
        this.requests.discovery += 1;
        if (this.discoveryDown) {
          response.writeHead(503).end();
          return;
        }
        send({ issuer: this.url, jwks_uri: `${this.url}/openid/v1/jwks` });
      } else if (request.url === '/openid/v1/jwks') {
        this.requests.jwks += 1;
        send({ keys: this.keys });
      } else {
        response.writeHead(404).end();
      }
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async publish(...keys: SigningKey[]): Promise<void> {
    this.keys = await Promise.all(
      keys.map(async ({ kid, alg, pair }) => ({
        ...(await exportJWK(pair.publicKey)),
        kid,
        alg,
        use: 'sig',
      })),
    );
  }

  sign(key: SigningKey, claims: JWTPayload = {}): Promise<string> {
    return new SignJWT({
      iss: this.url,
      aud: [AUDIENCE],
      sub: SUBJECT,
      iat: nowSeconds() - 10,
      exp: nowSeconds() + 3_600,
      'kubernetes.io': { namespace: 'ate-system', serviceaccount: { name: 'ate-client', uid: 'uid-1' } },
      ...claims,
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .sign(key.pair.privateKey);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }
}

/** Answers with who the guard says the caller is: [subject, client certificate subject]. */
@Controller()
@UseGuards(GrpcAuthGuard)
@UseFilters(GrpcExceptionFilter)
class WhoAmIGrpcController {
  @GrpcMethod(...grpcMethod(ateapi.ControlService, 'listAtespaces'))
  listAtespaces(_request: ateapi.ListAtespacesRequest, metadata: Metadata): ateapi.ListAtespacesResponse {
    const principal = principalOf(metadata);
    return {
      atespaces: [
        { name: principal?.subject ?? '(no principal)' },
        { name: principal?.clientCertificate?.subject ?? '(no certificate)' },
        { name: principal?.kubernetes?.serviceAccount?.name ?? '(no service account)' },
      ],
    };
  }
}

/** Same as above over REST; guarded by the global guards of AuthModule. */
@Controller()
class WhoAmIRestController {
  @Get('whoami')
  whoami(@Req() request: IncomingMessage): { subject: string; certificate: string | undefined } {
    const principal = principalOf(request);
    return {
      subject: principal?.subject ?? '(no principal)',
      certificate: principal?.clientCertificate?.subject,
    };
  }
}

async function startGrpc(
  config: AuthConfig,
  options: { globalGuards: boolean },
): Promise<{ app: INestMicroservice; address: string }> {
  @Module({
    imports: [AuthModule.forRoot(config, { globalGuards: options.globalGuards, jwksCooldownMs: 0 })],
    controllers: [WhoAmIGrpcController],
  })
  class GrpcTestModule {}

  const port = await freePort();
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(GrpcTestModule, {
    transport: Transport.GRPC,
    options: {
      url: `127.0.0.1:${port}`,
      package: 'ateapi',
      packageDefinition: nestGrpcPackageDefinition(ATEAPI_SERVICES),
      credentials: grpcServerCredentials(config),
    },
    logger: false,
  });
  await app.listen();
  return { app, address: `127.0.0.1:${port}` };
}

function whoAmI(address: string, channel: ChannelCredentials, authorization?: string): Promise<string[]> {
  const client = new ateapi.ControlClient(address, channel);
  const metadata = new Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  return new Promise<string[]>((resolve, reject) => {
    client.listAtespaces({}, metadata, { deadline: new Date(Date.now() + 10_000) }, (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(response.atespaces.map((atespace) => atespace.name));
    });
  });
}

async function grpcFailure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected the call to fail');
}

describeWithComponents(['openssl'], 'ateapi authentication over loopback', () => {
  let pki: TestPki;
  let issuer: TestIssuer;
  let key: SigningKey;
  let ecKey: SigningKey;

  beforeAll(async () => {
    pki = createTestPki();
    issuer = new TestIssuer();
    await issuer.start();
    [key, ecKey] = await Promise.all([signingKey('key-1'), signingKey('key-ec', 'ES256')]);
    await issuer.publish(key, ecKey);
  });

  afterAll(async () => {
    await issuer?.stop();
    pki?.remove();
  });

  const jwtSettings = (extra: Record<string, string> = {}) =>
    new Settings({
      ATEAPI_AUTH_MODE: 'jwt',
      ATEAPI_JWT_ISSUER: issuer.url,
      ATEAPI_JWT_AUDIENCE: AUDIENCE,
      ATEAPI_TLS_CERT_FILE: pki.server.certFile,
      ATEAPI_TLS_KEY_FILE: pki.server.keyFile,
      ...extra,
    });

  it('loads certificates that parse and belong together, and refuses a key of another certificate', () => {
    const config = loadAuthConfig(jwtSettings({ ATEAPI_TLS_CLIENT_CA_FILE: pki.ca.certFile }));
    expect(config.tls?.cert.equals(pki.server.cert)).toBe(true);
    expect(config.tls?.clientCa?.equals(pki.ca.cert)).toBe(true);
    expect(() => loadAuthConfig(jwtSettings({ ATEAPI_TLS_KEY_FILE: pki.client.keyFile }))).toThrow(
      /ATEAPI_TLS_KEY_FILE: .* is not the key of the certificate/,
    );
  });

  describe('gRPC, jwt mode, TLS', () => {
    let app: INestMicroservice;
    let address: string;
    const tls = () => credentials.createSsl(pki.ca.cert);

    beforeAll(async () => {
      ({ app, address } = await startGrpc(loadAuthConfig(jwtSettings()), { globalGuards: false }));
    });

    afterAll(() => app?.close());

    it('lets a call with a valid service-account token through, RSA or EC', async () => {
      await expect(whoAmI(address, tls(), `Bearer ${await issuer.sign(key)}`)).resolves.toEqual([
        SUBJECT,
        '(no certificate)',
        'ate-client',
      ]);
      await expect(whoAmI(address, tls(), `Bearer ${await issuer.sign(ecKey)}`)).resolves.toHaveLength(3);
    });

    it.each([
      ['no authorization', undefined],
      ['an empty bearer', 'Bearer '],
      ['another scheme', 'Basic dXNlcjpwYXNz'],
    ])('answers UNAUTHENTICATED "missing bearer token" for %s', async (_what, authorization) => {
      const error = await grpcFailure(whoAmI(address, tls(), authorization));
      expect(error.code).toBe(status.UNAUTHENTICATED);
      expect(error.details).toBe('missing bearer token');
    });

    it('answers UNAUTHENTICATED "invalid bearer token: <reason>" for every bad token', async () => {
      const other = await signingKey('key-1'); // same kid, different key
      const stranger = await signingKey('key-unknown');
      const cases: [string, string | RegExp][] = [
        [
          await issuer.sign(key, { iss: 'https://evil.example.test' }),
          'invalid bearer token: unexpected issuer "https://evil.example.test"',
        ],
        [
          await issuer.sign(key, { aud: 'someone-else' }),
          'invalid bearer token: unexpected "aud" claim value',
        ],
        [
          await issuer.sign(key, { iat: nowSeconds() - 7_200, exp: nowSeconds() - 3_600 }),
          'invalid bearer token: "exp" claim timestamp check failed',
        ],
        [await issuer.sign(other), 'invalid bearer token: signature verification failed'],
        [
          await issuer.sign(stranger),
          'invalid bearer token: no applicable key found in the JSON Web Key Set',
        ],
        ['not-a-jwt', /^invalid bearer token: malformed token: /],
      ];
      for (const [token, message] of cases) {
        const error = await grpcFailure(whoAmI(address, tls(), `Bearer ${token}`));
        expect(error.code).toBe(status.UNAUTHENTICATED);
        expect(error.details).toMatch(message);
      }
    });

    it('fetches the discovery document once and refetches the keys for a rotated key', async () => {
      expect(issuer.requests.discovery).toBe(1);
      const rotated = await signingKey('key-2');
      await issuer.publish(key, ecKey, rotated);
      const fetchesBefore = issuer.requests.jwks;
      await expect(whoAmI(address, tls(), `Bearer ${await issuer.sign(rotated)}`)).resolves.toContain(
        SUBJECT,
      );
      expect(issuer.requests.jwks).toBeGreaterThan(fetchesBefore);
      expect(issuer.requests.discovery).toBe(1);
    });

    it('does not talk to a plaintext client', async () => {
      const error = await grpcFailure(
        whoAmI(address, credentials.createInsecure(), `Bearer ${await issuer.sign(key)}`),
      );
      expect(error.code).toBe(status.UNAVAILABLE);
    });
  });

  describe('gRPC, mode none, TLS with a client CA, global guards', () => {
    let app: INestMicroservice;
    let address: string;

    beforeAll(async () => {
      const config = loadAuthConfig(
        new Settings({
          ATEAPI_TLS_CERT_FILE: pki.server.certFile,
          ATEAPI_TLS_KEY_FILE: pki.server.keyFile,
          ATEAPI_TLS_CLIENT_CA_FILE: pki.ca.certFile,
        }),
      );
      ({ app, address } = await startGrpc(config, { globalGuards: true }));
    });

    afterAll(() => app?.close());

    it('admits a client without a certificate as anonymous', async () => {
      await expect(whoAmI(address, credentials.createSsl(pki.ca.cert))).resolves.toEqual([
        'system:anonymous',
        '(no certificate)',
        '(no service account)',
      ]);
    });

    it('identifies a client by a certificate that verifies', async () => {
      const names = await whoAmI(
        address,
        credentials.createSsl(pki.ca.cert, pki.client.key, pki.client.cert),
      );
      expect(names[1]).toBe('CN=test-client,O=substrate');
    });

    it('never takes an unverified client certificate as identity', async () => {
      const names = await whoAmI(
        address,
        credentials.createSsl(pki.ca.cert, pki.rogueClient.key, pki.rogueClient.cert),
      );
      expect(names[1]).toBe('(no certificate)');
    });
  });

  describe('REST, jwt mode, TLS with a client CA, global guards', () => {
    let app: INestApplication;
    let port: number;

    beforeAll(async () => {
      const config = loadAuthConfig(jwtSettings({ ATEAPI_TLS_CLIENT_CA_FILE: pki.ca.certFile }));
      @Module({
        imports: [AuthModule.forRoot(config, { jwksCooldownMs: 0 })],
        controllers: [WhoAmIRestController, HealthController],
      })
      class RestTestModule {}
      app = await NestFactory.create(RestTestModule, { httpsOptions: httpsOptions(config), logger: false });
      app.useGlobalFilters(new HttpExceptionFilter());
      await app.listen(0, '127.0.0.1');
      port = (app.getHttpServer().address() as AddressInfo).port;
    });

    afterAll(() => app?.close());

    function get(
      path: string,
      options: { token?: string; client?: { cert: Buffer; key: Buffer } } = {},
    ): Promise<{ status: number; headers: IncomingMessage['headers']; body: unknown }> {
      return new Promise((resolve, reject) => {
        const request = httpsRequest(
          {
            host: '127.0.0.1',
            port,
            path,
            ca: pki.ca.cert,
            agent: false,
            ...(options.client ?? {}),
            headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 0,
                headers: response.headers,
                body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as unknown,
              }),
            );
          },
        );
        request.on('error', reject);
        request.end();
      });
    }

    it('serves the health probe without credentials', async () => {
      await expect(get('/healthz')).resolves.toMatchObject({ status: 200, body: { status: 'ok' } });
    });

    it('answers 401 with a JSON body and WWW-Authenticate without a token', async () => {
      const response = await get('/whoami');
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.body).toEqual({ code: 'UNAUTHENTICATED', message: 'missing bearer token' });
    });

    it('answers 401 for a bad token', async () => {
      const response = await get('/whoami', { token: await issuer.sign(key, { aud: 'nope' }) });
      expect(response).toMatchObject({
        status: 401,
        body: { code: 'UNAUTHENTICATED', message: 'invalid bearer token: unexpected "aud" claim value' },
      });
    });

    it('identifies the caller by token and verified client certificate', async () => {
      const response = await get('/whoami', { token: await issuer.sign(key), client: pki.client });
      expect(response).toEqual(
        expect.objectContaining({
          status: 200,
          body: { subject: SUBJECT, certificate: 'CN=test-client,O=substrate' },
        }),
      );
    });

    it('rejects a client certificate that does not verify, even with a good token', async () => {
      const response = await get('/whoami', { token: await issuer.sign(key), client: pki.rogueClient });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        code: 'UNAUTHENTICATED',
        message: expect.stringMatching(/^client certificate rejected: /) as unknown,
      });
    });
  });

  it('answers UNAVAILABLE while the issuer cannot be reached, and recovers once it can', async () => {
    const flaky = new TestIssuer();
    await flaky.start();
    try {
      await flaky.publish(key);
      flaky.discoveryDown = true;
      const authenticator = new Authenticator(
        loadAuthConfig(
          new Settings({
            ATEAPI_AUTH_MODE: 'jwt',
            ATEAPI_JWT_ISSUER: flaky.url,
            ATEAPI_JWT_AUDIENCE: AUDIENCE,
          }),
        ),
      );
      const token = await flaky.sign(key);
      const error = await authenticator.authenticate(`Bearer ${token}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ControlError);
      expect(error).toMatchObject({
        code: 'UNAVAILABLE',
        message: `cannot verify bearer token: OIDC discovery at ${flaky.url}/.well-known/openid-configuration: HTTP 503`,
      });
      flaky.discoveryDown = false;
      await expect(authenticator.authenticate(`Bearer ${token}`)).resolves.toMatchObject({
        subject: SUBJECT,
      });
      expect(flaky.requests.discovery).toBe(2);
    } finally {
      await flaky.stop();
    }
  });
});
