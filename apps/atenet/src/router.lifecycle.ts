import { Inject, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AtenetConfig } from './config';
import { ActorDnsServer } from './dns/dns-server';
import { RouterMetrics } from './metrics/metrics';
import { ActorRouter } from './proxy/router';
import { GrpcControlClient } from './routing/ateapi-client';
import { RouteCache } from './routing/route-cache';

export const ATENET_CONFIG = Symbol('AtenetConfig');

/** Starts the router (and the DNS responder) with the app, and stops them with it. */
export class RouterLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('atenet');
  private readonly control: GrpcControlClient;
  private readonly cache: RouteCache;
  readonly router: ActorRouter;
  private dnsServer: ActorDnsServer | undefined;
  /** The router's bound port (useful when configured as 0). */
  port = 0;

  constructor(
    @Inject(ATENET_CONFIG) private readonly config: AtenetConfig,
    @Inject(RouterMetrics) metrics: RouterMetrics,
  ) {
    this.control = new GrpcControlClient(config.ateapiAddress, config.ateapiTokenFile);
    this.cache = new RouteCache(config.changeFeed);
    this.router = new ActorRouter(this.control, this.cache, metrics, {
      wakeTimeoutMs: config.wakeTimeoutMs,
      maxHeldPerActor: config.maxHeldPerActor,
      idleSuspendMs: config.idleSuspendMs,
      workerIdleResetMs: config.workerIdleResetMs,
      // Actors' own timeouts are at least 1 s: looking every second at most keeps them within a second.
      idleSweepMs: Math.max(100, Math.min(1_000, Math.floor(config.idleSuspendMs / 4) || 1_000)),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.cache.start();
    this.port = await this.router.listen(this.config.router.host, this.config.router.port);
    this.logger.log(
      `routing on http://${this.config.router.host}:${this.port} via ateapi ${this.config.ateapiAddress}` +
        ` (route cache ${this.cache.enabled ? 'on' : 'off: no change feed'}, idle suspend by default ${this.config.idleSuspendMs ? `after ${this.config.idleSuspendMs} ms` : 'off'}, per actor by annotation)`,
    );
    if (this.config.dns) {
      this.dnsServer = new ActorDnsServer(this.config.dnsAnswer);
      const port = await this.dnsServer.listen(this.config.dns.host, this.config.dns.port);
      this.logger.log(`DNS for *.actors.resources.substrate.ate.dev on ${this.config.dns.host}:${port}/udp`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.router.close();
    await this.cache.stop();
    await this.dnsServer?.close();
    this.control.close();
  }
}
