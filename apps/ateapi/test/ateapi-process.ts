import { join } from 'node:path';
import { ManagedProcess } from '@substrate/testing';

/** ateapi as its own process (`node -r tools/scripts/swc-register.js src/main.ts`), as it runs for real. */
export class AteapiProcess {
  private constructor(
    private readonly child: ManagedProcess,
    readonly grpcAddress: string,
    readonly httpUrl: string,
  ) {}

  /** Starts ateapi with these settings and waits until /healthz answers. */
  static async start(
    env: Record<string, string>,
    grpcPort: number,
    httpPort: number,
  ): Promise<AteapiProcess> {
    const child = ManagedProcess.start(
      'ateapi',
      process.execPath,
      [
        '--enable-source-maps',
        '-r',
        join(__dirname, '../../../tools/scripts/swc-register.js'),
        join(__dirname, '../src/main.ts'),
      ],
      join(__dirname, '..'),
      {
        ...env,
        ATEAPI_GRPC_LISTEN: `127.0.0.1:${grpcPort}`,
        ATEAPI_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      },
    );
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    try {
      await child.waitUntil(async () => (await fetch(`${httpUrl}/healthz`)).ok, 60_000, 'healthy');
    } catch (error) {
      await child.kill();
      throw error;
    }
    return new AteapiProcess(child, `127.0.0.1:${grpcPort}`, httpUrl);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get log(): string {
    return this.child.log;
  }

  /** SIGKILL: a crash in the middle of whatever it was doing. */
  kill(): Promise<void> {
    return this.child.kill();
  }

  /** SIGTERM: a graceful shutdown that drains in-flight workflows. */
  stop(): Promise<void> {
    return this.child.stop(30_000);
  }
}
