// ateapi authentication: settings, bearer-token verification, Nest guards and TLS credentials.
export {
  AUTH_MODES,
  type AuthConfig,
  type AuthMode,
  type JwtConfig,
  loadAuthConfig,
  type ServerTlsConfig,
} from './auth-config';
export {
  Authenticator,
  type AuthenticatorOptions,
  bearerToken,
  CLOCK_SKEW_SECONDS,
  discoverJwksUri,
  JWT_ALGORITHMS,
  KEY_FETCH_TIMEOUT_MS,
  MISSING_BEARER_TOKEN,
} from './authenticator';
export { AuthModule, type AuthModuleOptions } from './auth.module';
export { authorizationOf, GrpcAuthGuard } from './grpc-auth.guard';
export { DEFAULT_PUBLIC_PATHS, HttpAuthGuard, Public, PUBLIC_PATHS, PUBLIC_ROUTE } from './http-auth.guard';
export {
  ANONYMOUS,
  type BoundObject,
  type KubernetesIdentity,
  type Principal,
  principalOf,
} from './principal';
export { type ClientCertificate, grpcServerCredentials, httpsOptions } from './tls';
