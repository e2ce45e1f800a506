import {
  Agent,
  type ClientRequest,
  type ClientRequestArgs,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createConnection, type NetConnectOpts, type Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import { status as grpcStatus } from '@grpc/grpc-js';
import httpProxy from 'http-proxy';
import { IdleTracker } from '../idle/idle-tracker';
import type { RouterMetrics } from '../metrics/metrics';
import {
  type ActorAddress,
  actorHostName,
  actorKeyOf,
  actorOfRequest,
  AddressError,
} from '../routing/actor-address';
import { ControlCallError, type ControlPort } from '../routing/ateapi-client';
import { Resumer, type Route, TooManyHeldError } from '../routing/resumer';
import type { RouteCache } from '../routing/route-cache';
import { mapWakeFailure, type RouterError } from './error-mapping';

export interface RouterOptions {
  readonly wakeTimeoutMs: number;
  readonly maxHeldPerActor: number;
  /**
   * Suspend actors idle (no request, nothing open) for this long, unless the actor or its template sets
   * its own timeout (`substrate.ate.dev/idle-suspend-after`); 0 = off for actors without one.
   */
  readonly idleSuspendMs: number;
  /** How often idle actors are looked for. */
  readonly idleSweepMs: number;
  /** Keep-alive connections to workers unused this long are reset (see AtenetConfig.workerIdleResetMs). */
  readonly workerIdleResetMs: number;
}

const routeKey = (route: Route): string => `${route.host}:${route.port}`;

/**
 * Answers a worker's FIN with a reset: when the actor's server closes a connection first, its side would
 * otherwise sit in TIME_WAIT for a minute, and this runsc refuses to checkpoint — and loses — a sandbox with
 * one. A reset ends it at once. (The socket is half-open so that Node does not send its own FIN first.)
 */
function resetOnPeerClose(socket: Socket): Socket {
  socket.once('end', () => socket.resetAndDestroy());
  // Node's HTTP client closes a connection whose answer said `Connection: close` with destroySoon (a
  // FIN) — by then the worker has usually closed its side first.
  socket.destroySoon = () => socket.resetAndDestroy();
  return socket;
}

/** Keep-alive connections to workers, each answering the worker's FIN with a reset. */
class WorkerAgent extends Agent {
  // Returning the socket (not calling back) is the synchronous form Node's Agent accepts.
  override createConnection(options: ClientRequestArgs): Socket {
    return resetOnPeerClose(createConnection({ ...(options as NetConnectOpts), allowHalfOpen: true }));
  }
}

/**
 * The L7 router: finds the actor a request is for (Host or `ate-target-actor`), wakes it if it is not
 * running (one ResumeActor per actor, requests held meanwhile), and forwards the request — streaming
 * bodies both ways, websockets included — to the actor's worker over keep-alive connections, with
 * `X-Forwarded-*` headers and the actor's own DNS name as Host.
 */
export class ActorRouter {
  private readonly logger = new Logger(ActorRouter.name);
  private readonly proxy = httpProxy.createProxyServer({ xfwd: true, ws: true, proxyTimeout: 0 });
  private readonly agents = new Map<string, Agent>();
  private readonly resumer: Resumer;
  readonly idle: IdleTracker;
  private server: Server | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private resetter: NodeJS.Timeout | undefined;
  /** When each pooled connection to a worker was last handed back to its pool. */
  private readonly freeSince = new WeakMap<Socket, number>();
  private readonly sockets = new Set<Socket>();
  /** Websocket connections to each worker (`host:port`), reset with the worker's route. */
  private readonly upgraded = new Map<string, Set<Socket>>();

  constructor(
    private readonly control: ControlPort,
    private readonly cache: RouteCache,
    private readonly metrics: RouterMetrics,
    private readonly options: RouterOptions,
  ) {
    this.resumer = new Resumer(control, options, (outcome) => metrics.resumes.inc({ outcome }));
    this.idle = new IdleTracker(options.idleSuspendMs);
    cache.onInvalidate((_key, route) => this.dropConnections(route));
    // An actor that stopped running (suspended by anyone) starts over: its next request wakes it.
    cache.onActorStopped((key) => this.idle.forget(key));
    // Connections to workers are the router's own (hop-by-hop): always keep-alive, whatever the client
    // asked for, so the sandbox never closes one itself — a socket it closed sits in TIME_WAIT, and this
    // runsc refuses to checkpoint then. The router resets them (RST) when the actor stops running.
    this.proxy.on('proxyReq', (proxyReq: ClientRequest) => proxyReq.setHeader('connection', 'keep-alive'));
    this.proxy.on('open', (proxySocket: Socket) => {
      resetOnPeerClose(proxySocket);
      const key = `${proxySocket.remoteAddress ?? ''}:${proxySocket.remotePort ?? 0}`;
      const set = this.upgraded.get(key) ?? new Set<Socket>();
      set.add(proxySocket);
      this.upgraded.set(key, set);
      proxySocket.once('close', () => set.delete(proxySocket));
    });
  }

  /** Starts listening; resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    const server = createServer((request, response) => void this.handle(request, response));
    server.on(
      'upgrade',
      (request: IncomingMessage, socket: Socket, head: Buffer) => void this.upgrade(request, socket, head),
    );
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.keepAliveTimeout = 65_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    // Always on: an actor's own timeout (annotation) applies even when the router's default is off.
    this.sweeper = setInterval(() => void this.suspendIdle(), this.options.idleSweepMs);
    const resetEvery = Math.max(50, Math.floor(this.options.workerIdleResetMs / 4));
    this.resetter = setInterval(() => this.resetIdleConnections(), resetEvery);
    this.resetter.unref();
    return (server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    clearInterval(this.resetter);
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of this.sockets) socket.destroy();
      });
    }
    this.proxy.close();
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let address: ActorAddress;
    try {
      address = actorOfRequest(request.headers);
    } catch (error) {
      if (!(error instanceof AddressError)) throw error;
      this.metrics.requests.inc({ outcome: 'invalid_address' });
      this.reply(response, { status: 404, code: 'INVALID_ACTOR_ADDRESS', message: error.message });
      return;
    }
    const key = actorKeyOf(address);
    const done = this.idle.opened(key);
    response.once('close', done);
    const route = await this.routeOf(address, response);
    if (!route) return;
    this.forward(request, response, address, route, true);
  }

  private forward(
    request: IncomingMessage,
    response: ServerResponse,
    address: ActorAddress,
    route: Route,
    mayRetry: boolean,
  ): void {
    const key = actorKeyOf(address);
    request.headers['host'] = actorHostName(address);
    this.proxy.web(
      request,
      response,
      { target: { host: route.host, port: route.port }, agent: this.agentFor(route) },
      (error: Error & { code?: string }) => {
        // The worker did not answer: the route is stale (the actor moved or its worker died).
        this.cache.invalidate(key);
        if (response.headersSent) {
          response.destroy(error);
          return;
        }
        const replayable =
          mayRetry && (request.method === 'GET' || request.method === 'HEAD') && !request.readableDidRead;
        if (
          replayable &&
          (error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET' || error.code === 'EHOSTUNREACH')
        ) {
          void this.routeOf(address, response, true).then(
            (fresh) => fresh && this.forward(request, response, address, fresh, false),
          );
          return;
        }
        this.metrics.requests.inc({ outcome: 'upstream_error' });
        this.reply(response, {
          status: 502,
          code: 'BAD_GATEWAY',
          message: `actor ${JSON.stringify(address.actorId)} did not answer: ${error.code ?? error.message}`,
        });
      },
    );
    response.once('finish', () => this.metrics.requests.inc({ outcome: 'routed' }));
  }

  private async upgrade(request: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    let address: ActorAddress;
    try {
      address = actorOfRequest(request.headers);
    } catch (error) {
      this.metrics.requests.inc({ outcome: 'invalid_address' });
      socket.end(httpError(404, error instanceof Error ? error.message : String(error)));
      return;
    }
    const key = actorKeyOf(address);
    const done = this.idle.opened(key);
    socket.once('close', done);
    let route: Route;
    try {
      route = await this.wakeRoute(address, false);
    } catch (error) {
      const mapped = this.mapError(address, error);
      socket.end(httpError(mapped.status, mapped.message));
      return;
    }
    request.headers['host'] = actorHostName(address);
    this.proxy.ws(request, socket, head, { target: { host: route.host, port: route.port } }, () => {
      this.cache.invalidate(key);
      socket.destroy();
    });
    this.metrics.requests.inc({ outcome: 'upgraded' });
  }

  /** The route of the actor, waking it if needed; answers the error itself and returns undefined on failure. */
  private async routeOf(
    address: ActorAddress,
    response: ServerResponse,
    forceWake = false,
  ): Promise<Route | undefined> {
    try {
      return await this.wakeRoute(address, forceWake);
    } catch (error) {
      const mapped = this.mapError(address, error);
      this.metrics.requests.inc({ outcome: mapped.code === 'NOT_FOUND' ? 'not_found' : 'wake_failed' });
      this.reply(response, mapped);
      return undefined;
    }
  }

  private async wakeRoute(address: ActorAddress, forceWake: boolean): Promise<Route> {
    const key = actorKeyOf(address);
    const cached = forceWake ? undefined : this.cache.get(key);
    if (cached) return cached;
    const started = performance.now();
    this.metrics.held.inc({}, 1);
    try {
      const { route, idleSuspendAfterMs } = await this.resumer.wake(address);
      this.idle.setActorTimeout(key, idleSuspendAfterMs);
      this.cache.set(key, route);
      this.metrics.wakeSeconds.observe((performance.now() - started) / 1000);
      return route;
    } finally {
      this.metrics.held.inc({}, -1);
    }
  }

  private mapError(address: ActorAddress, error: unknown): RouterError {
    if (error instanceof TooManyHeldError)
      return { status: 429, code: 'RESOURCE_EXHAUSTED', message: error.message, retryAfterSeconds: 1 };
    if (error instanceof ControlCallError)
      return mapWakeFailure(address.actorId, error.grpcCode, error.message);
    this.logger.error({ message: 'wake failed', actor: actorKeyOf(address), error: String(error) });
    return mapWakeFailure(address.actorId, grpcStatus.INTERNAL, '');
  }

  private reply(response: ServerResponse, error: RouterError): void {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const body = JSON.stringify({ code: error.code, message: error.message });
    response.writeHead(error.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...(error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) }),
    });
    response.end(body);
  }

  private agentFor(route: Route): Agent {
    const key = routeKey(route);
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new WorkerAgent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, timeout: 60_000 });
      agent.on('free', (socket: Socket) => this.freeSince.set(socket, performance.now()));
      this.agents.set(key, agent);
    }
    return agent;
  }

  /**
   * Resets (RST) pooled connections to workers that have been unused for `workerIdleResetMs`, so that the
   * router, not the actor's server, ends them: a connection the sandbox closed itself would sit in TIME_WAIT
   * in the sandbox, and this runsc refuses to checkpoint such a sandbox (and loses it).
   */
  private resetIdleConnections(): void {
    const cutoff = performance.now() - this.options.workerIdleResetMs;
    for (const agent of this.agents.values()) {
      for (const sockets of Object.values(agent.freeSockets)) {
        for (const socket of sockets ?? []) {
          if ((this.freeSince.get(socket) ?? Infinity) <= cutoff) socket.resetAndDestroy();
        }
      }
    }
  }

  /**
   * Resets every connection to a worker whose actor stopped running, keep-alive and websocket alike: this
   * runsc refuses to checkpoint a sandbox with an open TCP connection, or one in TIME_WAIT, so the
   * connections are reset (RST) rather than closed.
   */
  private dropConnections(route: Route): void {
    const key = routeKey(route);
    const agent = this.agents.get(key);
    const open = agent
      ? Object.values(agent.freeSockets).flat().length + Object.values(agent.sockets).flat().length
      : 0;
    this.logger.log({
      message: 'resetting connections to a worker whose actor stopped running',
      worker: key,
      connections: open,
    });
    if (agent) {
      this.agents.delete(key);
      for (const group of [agent.freeSockets, agent.sockets]) {
        for (const sockets of Object.values(group))
          for (const socket of sockets ?? []) socket.resetAndDestroy();
      }
      agent.destroy();
    }
    for (const socket of this.upgraded.get(key) ?? []) socket.resetAndDestroy();
    this.upgraded.delete(key);
  }

  /** Asks ateapi to suspend actors idle longer than their timeout (and never one with something open). */
  private async suspendIdle(): Promise<void> {
    for (const { key, timeoutMs } of this.idle.idle()) {
      const [atespace = '', actorId = ''] = key.split('/');
      this.idle.markSuspending(key, true);
      this.cache.invalidate(key);
      try {
        await this.control.suspend(atespace, actorId, new Date(Date.now() + 30_000));
        this.metrics.idleSuspensions.inc({ outcome: 'OK' });
        this.logger.log({ message: 'suspended an idle actor', actor: key, idleTimeoutMs: timeoutMs });
        this.idle.forget(key);
      } catch (error) {
        const code =
          error instanceof ControlCallError ? (grpcStatus[error.grpcCode] ?? 'UNKNOWN') : 'INTERNAL';
        this.metrics.idleSuspensions.inc({ outcome: code });
        this.logger.warn({
          message: 'idle suspend failed',
          actor: key,
          code,
          error: error instanceof Error ? error.message : String(error),
        });
        if (code === 'NOT_FOUND') this.idle.forget(key);
      } finally {
        this.idle.markSuspending(key, false);
      }
    }
  }
}

function httpError(status: number, message: string): string {
  const body = JSON.stringify({ message });
  return `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Error'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
