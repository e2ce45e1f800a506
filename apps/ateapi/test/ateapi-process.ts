import { ServiceProcess } from '@substrate/testing';

/** ateapi as its own process, as it runs for real (see ServiceProcess). */
export class AteapiProcess {
  private constructor(
    private readonly service: ServiceProcess,
    readonly grpcAddress: string,
    readonly httpUrl: string,
  ) {}

  /** Starts ateapi with these settings and waits until /healthz answers. */
  static async start(
    env: Record<string, string>,
    grpcPort: number,
    httpPort: number,
  ): Promise<AteapiProcess> {
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    const service = await ServiceProcess.start({
      name: 'ateapi',
      entry: 'apps/ateapi/src/main.ts',
      env: {
        ...env,
        ATEAPI_GRPC_LISTEN: `127.0.0.1:${grpcPort}`,
        ATEAPI_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      },
      healthUrl: `${httpUrl}/healthz`,
    });
    return new AteapiProcess(service, `127.0.0.1:${grpcPort}`, httpUrl);
  }

  get pid(): number | undefined {
    return this.service.pid;
  }

  get log(): string {
    return this.service.log;
  }

  /** SIGKILL: a crash in the middle of whatever it was doing. */
  kill(): Promise<void> {
    return this.service.kill();
  }

  /** SIGTERM: a graceful shutdown that drains in-flight workflows. */
  stop(): Promise<void> {
    return this.service.stop();
  }
}
