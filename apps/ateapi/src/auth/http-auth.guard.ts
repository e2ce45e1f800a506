import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type CanActivate,
  type CustomDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
  Optional,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ControlError, unauthenticated } from '../errors/control-error';
import { Authenticator } from './authenticator';
import { attachPrincipal, type Principal } from './principal';
import { httpClientCertificate } from './tls';

/** Metadata key of {@link Public}. */
export const PUBLIC_ROUTE = 'ateapi:auth:public';

/** Marks a REST controller or route as reachable without credentials (health, readiness, the API document). */
export const Public = (): CustomDecorator => SetMetadata(PUBLIC_ROUTE, true);

/** Paths reachable without credentials unless configured otherwise (probes and the OpenAPI document). */
export const DEFAULT_PUBLIC_PATHS: readonly string[] = ['/healthz', '/readyz', '/metrics', '/openapi.json'];

/** Nest injection token of the public path list of {@link HttpAuthGuard}. */
export const PUBLIC_PATHS = Symbol('ateapi:auth:public-paths');

/**
 * Authenticates REST requests: rejects a TLS client certificate that did not verify against the client
 * CA, then asks the {@link Authenticator} about the `Authorization` header. On failure it sets
 * `WWW-Authenticate: Bearer` (jwt mode) and throws the authenticator's ControlError, which the REST
 * exception filter turns into a 401 JSON body. Routes marked {@link Public} and the public paths
 * (default {@link DEFAULT_PUBLIC_PATHS}) pass without credentials. Other kinds of context (gRPC) pass
 * through untouched. Handlers read the caller with `principalOf(request)`.
 */
@Injectable()
export class HttpAuthGuard implements CanActivate {
  private readonly publicPaths: ReadonlySet<string>;

  constructor(
    @Inject(Authenticator) private readonly authenticator: Authenticator,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Optional() @Inject(PUBLIC_PATHS) publicPaths?: readonly string[],
  ) {
    this.publicPaths = new Set(publicPaths ?? DEFAULT_PUBLIC_PATHS);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<IncomingMessage>();
    const response = http.getResponse<ServerResponse>();
    if (this.isPublic(context, request)) return true;

    const tls = httpClientCertificate(request.socket);
    if (tls.state === 'rejected') {
      throw unauthenticated(`client certificate rejected: ${tls.reason}`);
    }
    let principal: Principal;
    try {
      principal = await this.authenticator.authenticate(request.headers.authorization);
    } catch (error) {
      if (error instanceof ControlError && error.code === 'UNAUTHENTICATED' && !response.headersSent) {
        response.setHeader('WWW-Authenticate', 'Bearer');
      }
      throw error;
    }
    attachPrincipal(
      request,
      tls.state === 'verified' ? { ...principal, clientCertificate: tls.certificate } : principal,
    );
    return true;
  }

  private isPublic(context: ExecutionContext, request: IncomingMessage): boolean {
    if (
      this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, [
        context.getHandler(),
        context.getClass(),
      ])
    ) {
      return true;
    }
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    return this.publicPaths.has(path);
  }
}
