import type { JWTPayload } from 'jose';
import type { ClientCertificate } from './tls';

/** A Kubernetes object a service-account token is bound to (`kubernetes.io.pod`, `.secret`, `.node`). */
export interface BoundObject {
  readonly name: string;
  readonly uid: string | undefined;
}

/** The Kubernetes claims of a service-account token, bound (`kubernetes.io`) or legacy. */
export interface KubernetesIdentity {
  readonly namespace: string | undefined;
  readonly serviceAccount: BoundObject | undefined;
  readonly pod: BoundObject | undefined;
  readonly secret: BoundObject | undefined;
  readonly node: BoundObject | undefined;
  /** `kubernetes.io.warnafter`: when the kubelet should have refreshed the token. */
  readonly warnAfter: Date | undefined;
}

/** Who made a call. */
export interface Principal {
  /** False for the anonymous principal of auth mode `none`. */
  readonly authenticated: boolean;
  /** The token's `sub` (`system:serviceaccount:<ns>:<name>` for Kubernetes), or `system:anonymous`. */
  readonly subject: string;
  readonly issuer: string | undefined;
  readonly audience: readonly string[];
  readonly expiresAt: Date | undefined;
  /** Present when the token carries Kubernetes service-account claims. */
  readonly kubernetes: KubernetesIdentity | undefined;
  /** Every claim of the verified token (empty for the anonymous principal). */
  readonly claims: Readonly<JWTPayload>;
  /** The TLS client certificate, when the client presented one that verified against the client CA. */
  readonly clientCertificate?: ClientCertificate;
}

/** The caller when authentication is off. */
export const ANONYMOUS: Principal = Object.freeze({
  authenticated: false,
  subject: 'system:anonymous',
  issuer: undefined,
  audience: [],
  expiresAt: undefined,
  kubernetes: undefined,
  claims: {},
});

const principals = new WeakMap<object, Principal>();

/** Remembers the principal of a call on its carrier (the gRPC metadata or call, or the HTTP request). */
export function attachPrincipal(carrier: object, principal: Principal): void {
  principals.set(carrier, principal);
}

/**
 * The principal the auth guard established for a call: pass the handler's gRPC `metadata` (or `call`),
 * or the HTTP request. Undefined when no guard ran for it.
 */
export function principalOf(carrier: object): Principal | undefined {
  return principals.get(carrier);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function bound(value: unknown): BoundObject | undefined {
  const object = record(value);
  const name = text(object?.['name']);
  return name === undefined ? undefined : { name, uid: text(object?.['uid']) };
}

/**
 * The Kubernetes identity in a token's claims: the bound-token claim `kubernetes.io` (namespace,
 * serviceaccount, pod, secret, node, warnafter) or the legacy `kubernetes.io/serviceaccount/*` claims.
 * Undefined when there are none.
 */
export function kubernetesIdentity(claims: JWTPayload): KubernetesIdentity | undefined {
  const bag = record(claims['kubernetes.io']);
  if (bag !== undefined) {
    const warnAfter = bag['warnafter'];
    return {
      namespace: text(bag['namespace']),
      serviceAccount: bound(bag['serviceaccount']),
      pod: bound(bag['pod']),
      secret: bound(bag['secret']),
      node: bound(bag['node']),
      warnAfter: typeof warnAfter === 'number' ? new Date(warnAfter * 1_000) : undefined,
    };
  }
  const legacy = (name: string) => text(claims[`kubernetes.io/serviceaccount/${name}`]);
  const namespace = legacy('namespace');
  const account = legacy('service-account.name');
  if (namespace === undefined && account === undefined) return undefined;
  const secret = legacy('secret.name');
  return {
    namespace,
    serviceAccount: account === undefined ? undefined : { name: account, uid: legacy('service-account.uid') },
    pod: undefined,
    secret: secret === undefined ? undefined : { name: secret, uid: undefined },
    node: undefined,
    warnAfter: undefined,
  };
}

/** The principal of a verified token's claims. */
export function principalFromClaims(claims: JWTPayload): Principal {
  const audience = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return {
    authenticated: true,
    subject: claims.sub ?? '',
    issuer: claims.iss,
    audience,
    expiresAt: claims.exp === undefined ? undefined : new Date(claims.exp * 1_000),
    kubernetes: kubernetesIdentity(claims),
    claims,
  };
}
