import { readFile } from 'node:fs/promises';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Metadata } from '@grpc/grpc-js';
import { ateapi } from '@substrate/proto';
import { ateapiChannelCredentials, type AteletConfig } from '../config';
import { ATELET_CONFIG } from '../herder/herder.service';

/** The report of this node's workers, as ateapi's WorkerRegistry takes it. */
export function workersReport(
  config: AteletConfig,
  advertiseAddress: string,
  nodeName: string,
  leaseSeconds: number,
): ateapi.ReportWorkersRequest {
  return {
    nodeName,
    ateletEndpoint: advertiseAddress,
    leaseSeconds,
    workers: config.workers.map((worker) => ({
      workerNamespace: worker.namespace,
      workerPool: worker.pool,
      workerPod: worker.name,
      ip: worker.endpoint.ip,
      workerPodUid: worker.uid,
      httpPort: worker.endpoint.port,
    })),
  };
}

/**
 * Reports this node's workers to ateapi (`ateapi.WorkerRegistry/ReportWorkers`) and renews their leases
 * every third of the granted lease; a failed report is retried sooner (1 s, doubling, at most a third of the
 * lease). The bearer token file, when set, is read again for every report (rotated tokens). Stops on shutdown.
 */
@Injectable()
export class RegistrationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RegistrationService.name);
  private client: ateapi.WorkerRegistryClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight: Promise<void> | undefined;
  private failures = 0;
  /** Reports that succeeded (for tests and health). */
  reports = 0;

  constructor(@Inject(ATELET_CONFIG) private readonly config: AteletConfig) {}

  onApplicationBootstrap(): void {
    const registration = this.config.registration;
    if (registration === undefined) return;
    this.client = new ateapi.WorkerRegistryClient(
      registration.ateapiAddress,
      ateapiChannelCredentials(this.config),
    );
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.inFlight?.catch(() => undefined);
    this.client?.close();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.reportOnce()
        .then(
          (granted) => {
            this.failures = 0;
            this.schedule(Math.max(1, granted / 3) * 1_000);
          },
          (error: unknown) => {
            this.failures++;
            const lease = this.config.registration?.leaseSeconds ?? 30;
            const delay = Math.min(1_000 * 2 ** (this.failures - 1), (lease / 3) * 1_000);
            this.logger.warn({
              message: 'worker report failed',
              error: error instanceof Error ? error.message : String(error),
              retryInMs: delay,
            });
            this.schedule(delay);
          },
        )
        .then(() => {
          this.inFlight = undefined;
        });
    }, delayMs);
  }

  /** Sends one report; resolves with the granted lease in seconds. */
  private async reportOnce(): Promise<number> {
    const registration = this.config.registration;
    const client = this.client;
    if (registration === undefined || client === undefined) return 30;
    const metadata = new Metadata();
    if (registration.tokenFile !== undefined) {
      const token = (await readFile(registration.tokenFile, 'utf8')).trim();
      metadata.set('authorization', `Bearer ${token}`);
    }
    const request = workersReport(
      this.config,
      registration.advertiseAddress,
      registration.nodeName,
      registration.leaseSeconds,
    );
    const response = await new Promise<ateapi.ReportWorkersResponse>((resolve, reject) => {
      client.reportWorkers(request, metadata, { deadline: new Date(Date.now() + 10_000) }, (error, answer) =>
        error ? reject(error) : resolve(answer),
      );
    });
    if (this.reports === 0 || response.added > 0 || response.removed > 0) {
      this.logger.log({
        message: 'workers reported',
        workers: request.workers.length,
        leaseSeconds: response.leaseSeconds,
        added: response.added,
        removed: response.removed,
      });
    }
    this.reports++;
    return response.leaseSeconds > 0 ? response.leaseSeconds : registration.leaseSeconds;
  }
}
