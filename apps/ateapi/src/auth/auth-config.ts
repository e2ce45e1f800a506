import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, type Settings } from '@substrate/service';

/** How callers of ateapi authenticate: `none` (local mode: transport only) or `jwt` (bearer tokens). */
export type AuthMode = 'none' | 'jwt';

/** The authentication modes, as `ATEAPI_AUTH_MODE` accepts them. */
export const AUTH_MODES: readonly AuthMode[] = ['none', 'jwt'];

/** TLS for ateapi's gRPC and HTTP ports. */
export interface ServerTlsConfig {
  /** PEM certificate chain, leaf first (`ATEAPI_TLS_CERT_FILE`). */
  readonly cert: Buffer;
  /** PEM private key of the leaf (`ATEAPI_TLS_KEY_FILE`). */
  readonly key: Buffer;
  /**
   * PEM CA bundle for client certificates (`ATEAPI_TLS_CLIENT_CA_FILE`). When set, clients are asked for
   * a certificate; one that is presented must verify against this bundle (upstream's
   * VerifyClientCertIfGiven). Undefined: client certificates are not requested.
   */
  readonly clientCa?: Buffer;
}

/** Verification of bearer tokens (Kubernetes service-account tokens or any OIDC issuer's JWTs). */
export interface JwtConfig {
  /** The expected `iss` (`ATEAPI_JWT_ISSUER`). */
  readonly issuer: string;
  /** A value the token's `aud` must contain (`ATEAPI_JWT_AUDIENCE`). */
  readonly audience: string;
  /** Where the signing keys are (`ATEAPI_JWT_JWKS_URL`); undefined: OIDC discovery under the issuer. */
  readonly jwksUrl?: string;
}

/** ateapi's authentication settings, validated at boot by {@link loadAuthConfig}. */
export interface AuthConfig {
  readonly mode: AuthMode;
  /** Undefined: plaintext gRPC and HTTP. */
  readonly tls?: ServerTlsConfig;
  /** Present exactly when `mode` is `jwt`. */
  readonly jwt?: JwtConfig;
}

/**
 * Reads and checks the authentication settings:
 *
 * - `ATEAPI_AUTH_MODE`: `none` (default) or `jwt`.
 * - `ATEAPI_TLS_CERT_FILE` + `ATEAPI_TLS_KEY_FILE`: TLS on the gRPC and HTTP ports (both or neither; the
 *   files must exist, parse, and the key must belong to the certificate).
 * - `ATEAPI_TLS_CLIENT_CA_FILE`: verify client certificates when given (needs TLS).
 * - `ATEAPI_JWT_ISSUER`, `ATEAPI_JWT_AUDIENCE` (required in `jwt` mode), `ATEAPI_JWT_JWKS_URL` (optional;
 *   else `<issuer>/.well-known/openid-configuration` → `jwks_uri`). Setting them in `none` mode is an
 *   error, so a deployment never believes it checks tokens when it does not.
 *
 * @throws ConfigError naming the first setting that is missing or wrong.
 */
export function loadAuthConfig(settings: Settings): AuthConfig {
  const mode = settings.oneOf('ATEAPI_AUTH_MODE', AUTH_MODES, 'none');
  const tls = loadTls(settings);
  const issuer = settings.string('ATEAPI_JWT_ISSUER', '');
  const audience = settings.string('ATEAPI_JWT_AUDIENCE', '');
  const jwksUrl = settings.string('ATEAPI_JWT_JWKS_URL', '');
  if (mode === 'none') {
    for (const [name, value] of [
      ['ATEAPI_JWT_ISSUER', issuer],
      ['ATEAPI_JWT_AUDIENCE', audience],
      ['ATEAPI_JWT_JWKS_URL', jwksUrl],
    ] as const) {
      if (value !== '')
        throw new ConfigError(name, 'is only used with ATEAPI_AUTH_MODE=jwt, which is not set');
    }
    return { mode, ...(tls === undefined ? {} : { tls }) };
  }
  if (issuer === '') throw new ConfigError('ATEAPI_JWT_ISSUER', 'required when ATEAPI_AUTH_MODE=jwt');
  if (audience === '') throw new ConfigError('ATEAPI_JWT_AUDIENCE', 'required when ATEAPI_AUTH_MODE=jwt');
  checkHttpUrl('ATEAPI_JWT_ISSUER', issuer);
  if (jwksUrl !== '') checkHttpUrl('ATEAPI_JWT_JWKS_URL', jwksUrl);
  return {
    mode,
    ...(tls === undefined ? {} : { tls }),
    jwt: { issuer, audience, ...(jwksUrl === '' ? {} : { jwksUrl }) },
  };
}

function loadTls(settings: Settings): ServerTlsConfig | undefined {
  const certFile = settings.string('ATEAPI_TLS_CERT_FILE', '');
  const keyFile = settings.string('ATEAPI_TLS_KEY_FILE', '');
  const clientCaFile = settings.string('ATEAPI_TLS_CLIENT_CA_FILE', '');
  if (certFile === '' && keyFile === '') {
    if (clientCaFile !== '') {
      throw new ConfigError(
        'ATEAPI_TLS_CLIENT_CA_FILE',
        'needs TLS: set ATEAPI_TLS_CERT_FILE and ATEAPI_TLS_KEY_FILE too',
      );
    }
    return undefined;
  }
  if (certFile === '')
    throw new ConfigError('ATEAPI_TLS_CERT_FILE', 'required when ATEAPI_TLS_KEY_FILE is set');
  if (keyFile === '')
    throw new ConfigError('ATEAPI_TLS_KEY_FILE', 'required when ATEAPI_TLS_CERT_FILE is set');

  const cert = readPem('ATEAPI_TLS_CERT_FILE', certFile);
  const key = readPem('ATEAPI_TLS_KEY_FILE', keyFile);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (error) {
    throw new ConfigError('ATEAPI_TLS_CERT_FILE', `${certFile} is not a PEM certificate: ${message(error)}`);
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key))) {
      throw new ConfigError(
        'ATEAPI_TLS_KEY_FILE',
        `${keyFile} is not the key of the certificate in ${certFile}`,
      );
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError('ATEAPI_TLS_KEY_FILE', `${keyFile} is not a PEM private key: ${message(error)}`);
  }
  if (clientCaFile === '') return { cert, key };
  const clientCa = readPem('ATEAPI_TLS_CLIENT_CA_FILE', clientCaFile);
  try {
    new X509Certificate(clientCa);
  } catch (error) {
    throw new ConfigError(
      'ATEAPI_TLS_CLIENT_CA_FILE',
      `${clientCaFile} is not a PEM certificate bundle: ${message(error)}`,
    );
  }
  return { cert, key, clientCa };
}

function readPem(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(setting, `cannot read ${path}: ${message(error)}`);
  }
}

function checkHttpUrl(setting: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(setting, `expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(setting, `expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
