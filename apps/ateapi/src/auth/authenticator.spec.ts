import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  SignJWT,
} from 'jose';
import { ControlError } from '../errors/control-error';
import type { AuthConfig } from './auth-config';
import { Authenticator, bearerToken, MISSING_BEARER_TOKEN } from './authenticator';
import { ANONYMOUS, kubernetesIdentity } from './principal';

const ISSUER = 'https://issuer.example.test';
const AUDIENCE = 'api.ate-system.svc';
const NOW = new Date('2026-11-30T10:00:00Z');
const nowSeconds = NOW.getTime() / 1_000;
const JWT_CONFIG: AuthConfig = { mode: 'jwt', jwt: { issuer: ISSUER, audience: AUDIENCE } };

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

interface Signer {
  kid: string;
  alg: string;
  pair: KeyPair;
}

async function signer(kid: string, alg = 'RS256'): Promise<Signer> {
  return { kid, alg, pair: await generateKeyPair(alg, { extractable: true }) };
}

async function jwks(...signers: Signer[]): Promise<JSONWebKeySet> {
  return {
    keys: await Promise.all(
      signers.map(async ({ kid, alg, pair }) => ({
        ...(await exportJWK(pair.publicKey)),
        kid,
        alg,
        use: 'sig',
      })),
    ),
  };
}

async function sign(
  key: Signer,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'system:serviceaccount:ate-system:ate-client',
    iat: nowSeconds - 60,
    exp: nowSeconds + 3_600,
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.pair.privateKey);
}

async function failure(promise: Promise<unknown>): Promise<ControlError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ControlError) return error;
    throw error;
  }
  throw new Error('expected a ControlError');
}

describe('bearerToken', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['Bearer ', undefined],
    ['Bearer    ', undefined],
    ['bearer abc', undefined],
    ['Basic abc', undefined],
    ['Bearer abc', 'abc'],
    ['Bearer  abc ', 'abc'],
  ])('%j → %j', (value, token) => {
    expect(bearerToken(value)).toBe(token);
  });
});

describe('Authenticator', () => {
  let rsa: Signer;
  let ec: Signer;
  let stranger: Signer;
  let keyLookups: number;
  let authenticator: Authenticator;

  beforeAll(async () => {
    [rsa, ec, stranger] = await Promise.all([signer('rsa-1'), signer('ec-1', 'ES256'), signer('rsa-1')]);
    const local = createLocalJWKSet(await jwks(rsa, ec));
    const keys: JWTVerifyGetKey = (header, token) => {
      keyLookups += 1;
      return local(header, token);
    };
    authenticator = new Authenticator(JWT_CONFIG, { keys, now: () => NOW });
  });

  beforeEach(() => {
    keyLookups = 0;
  });

  it('lets everyone in as anonymous in mode none', async () => {
    const none = new Authenticator({ mode: 'none' });
    await expect(none.authenticate(undefined)).resolves.toBe(ANONYMOUS);
    await expect(none.authenticate('Bearer garbage')).resolves.toBe(ANONYMOUS);
  });

  it('accepts a token signed by a key of the set, RSA or EC, with its claims', async () => {
    const claims = {
      'kubernetes.io': {
        namespace: 'ate-system',
        serviceaccount: { name: 'ate-client', uid: 'sa-uid' },
        pod: { name: 'atenet-0', uid: 'pod-uid' },
        warnafter: nowSeconds + 600,
      },
    };
    const principal = await authenticator.authenticate(`Bearer ${await sign(rsa, claims)}`);
    expect(principal).toMatchObject({
      authenticated: true,
      subject: 'system:serviceaccount:ate-system:ate-client',
      issuer: ISSUER,
      audience: [AUDIENCE],
      expiresAt: new Date((nowSeconds + 3_600) * 1_000),
      kubernetes: {
        namespace: 'ate-system',
        serviceAccount: { name: 'ate-client', uid: 'sa-uid' },
        pod: { name: 'atenet-0', uid: 'pod-uid' },
        secret: undefined,
        node: undefined,
        warnAfter: new Date((nowSeconds + 600) * 1_000),
      },
    });
    const viaEc = await authenticator.authenticate(`Bearer ${await sign(ec, { aud: ['other', AUDIENCE] })}`);
    expect(viaEc.audience).toEqual(['other', AUDIENCE]);
    expect(viaEc.kubernetes).toBeUndefined();
  });

  it.each([undefined, '', 'Bearer', 'Bearer ', 'bearer x', 'Basic dXNlcjpwdw=='])(
    'answers UNAUTHENTICATED "missing bearer token" for %j',
    async (value) => {
      const error = await failure(authenticator.authenticate(value));
      expect([error.code, error.message]).toEqual(['UNAUTHENTICATED', MISSING_BEARER_TOKEN]);
    },
  );

  it('rejects a malformed token', async () => {
    const error = await failure(authenticator.authenticate('Bearer not.a.jwt'));
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(/^invalid bearer token: malformed token: /);
  });

  it('rejects a token of another issuer before looking up any key', async () => {
    const error = await failure(
      authenticator.authenticate(`Bearer ${await sign(rsa, { iss: 'https://evil.example.test' })}`),
    );
    expect(error.message).toBe('invalid bearer token: unexpected issuer "https://evil.example.test"');
    expect(keyLookups).toBe(0);
  });

  it('rejects a token for another audience', async () => {
    const error = await failure(
      authenticator.authenticate(`Bearer ${await sign(rsa, { aud: 'someone-else' })}`),
    );
    expect(error.message).toBe('invalid bearer token: unexpected "aud" claim value');
  });

  it('tolerates 5 minutes of clock skew on exp and nbf, and not more', async () => {
    const justExpired = await sign(rsa, { exp: nowSeconds - 200 });
    await expect(authenticator.authenticate(`Bearer ${justExpired}`)).resolves.toHaveProperty(
      'authenticated',
      true,
    );
    const expired = await failure(
      authenticator.authenticate(`Bearer ${await sign(rsa, { exp: nowSeconds - 400 })}`),
    );
    expect(expired.message).toBe('invalid bearer token: "exp" claim timestamp check failed');

    await expect(
      authenticator.authenticate(`Bearer ${await sign(rsa, { nbf: nowSeconds + 200 })}`),
    ).resolves.toHaveProperty('authenticated', true);
    const early = await failure(
      authenticator.authenticate(`Bearer ${await sign(rsa, { nbf: nowSeconds + 400 })}`),
    );
    expect(early.message).toBe('invalid bearer token: "nbf" claim timestamp check failed');

    const future = await failure(
      authenticator.authenticate(`Bearer ${await sign(rsa, { iat: nowSeconds + 400 })}`),
    );
    expect(future.message).toBe('invalid bearer token: token issued in the future');
  });

  it('rejects a token signed by another key under a known kid', async () => {
    const error = await failure(authenticator.authenticate(`Bearer ${await sign(stranger)}`));
    expect(error.message).toBe('invalid bearer token: signature verification failed');
  });

  it('rejects a token whose kid is not in the set', async () => {
    const error = await failure(authenticator.authenticate(`Bearer ${await sign({ ...rsa, kid: 'rsa-9' })}`));
    expect(error.message).toBe('invalid bearer token: no applicable key found in the JSON Web Key Set');
  });

  it('rejects an HMAC token and a token of another type', async () => {
    const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
    const hmac = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, exp: nowSeconds + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .sign(secret);
    const error = await failure(authenticator.authenticate(`Bearer ${hmac}`));
    expect(error.message).toBe('invalid bearer token: "alg" (Algorithm) Header Parameter value not allowed');

    const typed = await failure(
      authenticator.authenticate(`Bearer ${await sign(rsa, {}, { typ: 'at+jwt' })}`),
    );
    expect(typed.message).toBe('invalid bearer token: unexpected token type "at+jwt"');
  });

  it('refuses a jwt mode without its settings', () => {
    expect(() => new Authenticator({ mode: 'jwt' })).toThrow(/needs the jwt settings/);
  });
});

describe('kubernetesIdentity', () => {
  it('reads the legacy service-account claims', () => {
    expect(
      kubernetesIdentity({
        'kubernetes.io/serviceaccount/namespace': 'team',
        'kubernetes.io/serviceaccount/service-account.name': 'bot',
        'kubernetes.io/serviceaccount/service-account.uid': 'u-1',
        'kubernetes.io/serviceaccount/secret.name': 'bot-token',
      }),
    ).toEqual({
      namespace: 'team',
      serviceAccount: { name: 'bot', uid: 'u-1' },
      pod: undefined,
      secret: { name: 'bot-token', uid: undefined },
      node: undefined,
      warnAfter: undefined,
    });
  });

  it('is undefined for tokens of other issuers', () => {
    expect(kubernetesIdentity({ sub: 'alice' })).toBeUndefined();
  });
});
