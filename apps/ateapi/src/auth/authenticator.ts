import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { ControlError, unauthenticated } from '../errors/control-error';
import type { AuthConfig, JwtConfig } from './auth-config';
import { ANONYMOUS, type Principal, principalFromClaims } from './principal';

/** Upstream's message when a call carries no `authorization: Bearer <token>`. */
export const MISSING_BEARER_TOKEN = 'missing bearer token';

/** The signature algorithms a token may use (upstream's list; it loads only RSA keys, we take EC keys too). */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'] as const;

/** Clock skew tolerated on `exp`, `nbf` and `iat`, as upstream (5 minutes). */
export const CLOCK_SKEW_SECONDS = 300;

/** Timeout of each request for the discovery document or the key set, as upstream's HTTP client. */
export const KEY_FETCH_TIMEOUT_MS = 10_000;

/** jose error codes that mean "this token is not acceptable" (anything else is a failure to check it). */
const TOKEN_ERROR_CODES = new Set([
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
]);

/** Options for tests and special deployments; production uses the defaults. */
export interface AuthenticatorOptions {
  /** Where keys come from instead of the remote JWKS (e.g. jose's `createLocalJWKSet`). */
  readonly keys?: JWTVerifyGetKey;
  /** The current time (default: the clock). */
  readonly now?: () => Date;
  /**
   * Least time between two fetches of the remote key set, in ms (default 30 s): a token with an unknown
   * `kid` refetches the set at most this often, so a rotated key is accepted within this delay.
   */
  readonly jwksCooldownMs?: number;
}

function invalidToken(reason: string, cause?: unknown): ControlError {
  return new ControlError('UNAUTHENTICATED', `invalid bearer token: ${reason}`, { cause });
}

/**
 * Establishes who makes a call from its `authorization` value.
 *
 * In mode `none` everyone is {@link ANONYMOUS}. In mode `jwt` the value must be exactly `Bearer <token>`
 * (else UNAUTHENTICATED `missing bearer token`), and the token must be a JWT with `typ` JWT or none,
 * the configured `iss` (checked before any key is fetched), an `aud` containing the configured audience,
 * `exp` / `nbf` / `iat` valid within 5 minutes of skew, and a signature (RS256/384/512, ES256/384/512) by
 * a key of the issuer's JWKS (else UNAUTHENTICATED `invalid bearer token: <reason>`). Keys are cached and
 * refetched when a token names an unknown `kid`. When the keys cannot be fetched at all the call fails
 * with UNAVAILABLE `cannot verify bearer token: <reason>`: the caller is not at fault and may retry.
 */
export class Authenticator {
  private readonly jwt: JwtConfig | undefined;
  private keys: Promise<JWTVerifyGetKey> | undefined;
  private readonly now: () => Date;
  private readonly jwksCooldownMs: number;

  constructor(
    readonly config: AuthConfig,
    options: AuthenticatorOptions = {},
  ) {
    this.jwt = config.mode === 'jwt' ? config.jwt : undefined;
    if (config.mode === 'jwt' && this.jwt === undefined) {
      throw new Error('auth mode jwt needs the jwt settings (use loadAuthConfig)');
    }
    if (options.keys !== undefined) this.keys = Promise.resolve(options.keys);
    this.now = options.now ?? (() => new Date());
    this.jwksCooldownMs = options.jwksCooldownMs ?? 30_000;
  }

  /** The principal of a call; throws a {@link ControlError} (UNAUTHENTICATED or UNAVAILABLE) otherwise. */
  async authenticate(authorizationValue: string | undefined): Promise<Principal> {
    const jwt = this.jwt;
    if (jwt === undefined) return ANONYMOUS;
    const token = bearerToken(authorizationValue);
    if (token === undefined) throw unauthenticated(MISSING_BEARER_TOKEN);

    let claims: JWTPayload;
    try {
      const header = decodeProtectedHeader(token);
      if (header.typ !== undefined && header.typ !== '' && header.typ !== 'JWT') {
        throw invalidToken(`unexpected token type ${JSON.stringify(header.typ)}`);
      }
      claims = decodeJwt(token);
    } catch (error) {
      if (error instanceof ControlError) throw error;
      throw invalidToken(`malformed token: ${reason(error)}`, error);
    }
    if (claims.iss !== jwt.issuer) {
      throw invalidToken(`unexpected issuer ${JSON.stringify(claims.iss ?? '')}`);
    }

    const keys = await this.keySet(jwt);
    const now = this.now();
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: jwt.issuer,
        audience: jwt.audience,
        algorithms: [...JWT_ALGORITHMS],
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: now,
      });
      if (typeof payload.iat === 'number' && payload.iat > now.getTime() / 1_000 + CLOCK_SKEW_SECONDS) {
        throw invalidToken('token issued in the future');
      }
      return principalFromClaims(payload);
    } catch (error) {
      if (error instanceof ControlError) throw error;
      if (isTokenError(error)) throw invalidToken(reason(error), error);
      throw new ControlError('UNAVAILABLE', `cannot verify bearer token: ${reason(error)}`, { cause: error });
    }
  }

  /**
   * Resolves the key set now (OIDC discovery when no JWKS URL is configured), so a misconfigured issuer
   * shows at boot. Optional: {@link authenticate} does it on first use and retries after a failure.
   *
   * @throws ControlError UNAVAILABLE when the discovery document cannot be fetched or has no `jwks_uri`.
   */
  async ready(): Promise<void> {
    if (this.jwt !== undefined) await this.keySet(this.jwt);
  }

  private keySet(jwt: JwtConfig): Promise<JWTVerifyGetKey> {
    if (this.keys === undefined) {
      const keys = resolveKeySet(jwt, this.jwksCooldownMs);
      this.keys = keys;
      // A failed discovery is retried by the next call instead of being remembered.
      keys.catch(() => {
        if (this.keys === keys) this.keys = undefined;
      });
    }
    return this.keys;
  }
}

/** The token of `Bearer <token>` (exact prefix, trimmed, non-empty), else undefined. */
export function bearerToken(authorizationValue: string | undefined): string | undefined {
  if (authorizationValue === undefined || !authorizationValue.startsWith('Bearer ')) return undefined;
  const token = authorizationValue.slice('Bearer '.length).trim();
  return token === '' ? undefined : token;
}

async function resolveKeySet(jwt: JwtConfig, cooldownDuration: number): Promise<JWTVerifyGetKey> {
  const jwksUrl = jwt.jwksUrl ?? (await discoverJwksUri(jwt.issuer));
  return createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: KEY_FETCH_TIMEOUT_MS, cooldownDuration });
}

/** `jwks_uri` of the issuer's OIDC discovery document (`<issuer>/.well-known/openid-configuration`). */
export async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const unavailable = (problem: string, cause?: unknown) =>
    new ControlError('UNAVAILABLE', `cannot verify bearer token: OIDC discovery at ${url}: ${problem}`, {
      cause,
    });
  let document: unknown;
  try {
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS),
    });
    if (!response.ok) throw unavailable(`HTTP ${response.status}`);
    document = await response.json();
  } catch (error) {
    if (error instanceof ControlError) throw error;
    throw unavailable(reason(error), error);
  }
  const jwksUri = (document as { jwks_uri?: unknown } | null)?.jwks_uri;
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) throw unavailable('no valid jwks_uri');
  return jwksUri;
}

function isTokenError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TOKEN_ERROR_CODES.has(code);
}

function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
