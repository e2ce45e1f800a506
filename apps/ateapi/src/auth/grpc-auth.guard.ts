import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { Authenticator } from './authenticator';
import { attachPrincipal, type Principal } from './principal';
import { clientCertificateOf } from './tls';

/** The first `authorization` value of gRPC metadata, as text. */
export function authorizationOf(metadata: Pick<Metadata, 'get'> | undefined): string | undefined {
  const value = metadata?.get('authorization')[0];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}

/**
 * Authenticates gRPC calls: reads `authorization` from the call's metadata and asks the
 * {@link Authenticator}. On failure it throws the authenticator's ControlError (UNAUTHENTICATED with
 * upstream's message, or UNAVAILABLE when the keys cannot be fetched); it never returns false, which Nest
 * would turn into an UNKNOWN "Forbidden resource". The gRPC exception filter maps the error to the
 * status, so register the guard where that filter applies (the same controller, or both globally).
 *
 * The principal (with the verified TLS client certificate, if any) is available to handlers through
 * `principalOf(metadata)` or `principalOf(call)`. Other kinds of context (HTTP) pass through untouched.
 */
@Injectable()
export class GrpcAuthGuard implements CanActivate {
  constructor(@Inject(Authenticator) private readonly authenticator: Authenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'rpc') return true;
    const metadata = context.switchToRpc().getContext<Metadata | undefined>();
    const call = context.getArgByIndex<Partial<ServerUnaryCall<unknown, unknown>> | undefined>(2);
    const principal = await this.authenticator.authenticate(authorizationOf(metadata));
    const certificate = clientCertificateOf(call?.getAuthContext?.().sslPeerCertificate);
    const withCertificate: Principal =
      certificate === undefined ? principal : { ...principal, clientCertificate: certificate };
    if (metadata !== undefined) attachPrincipal(metadata, withCertificate);
    if (call !== undefined) attachPrincipal(call, withCertificate);
    return true;
  }
}
