import { readFile } from 'node:fs/promises';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { ateapi } from '@substrate/proto';

/** What the router asks of the control plane. */
export interface ControlPort {
  resume(atespace: string, actorId: string, deadline: Date): Promise<ateapi.Actor>;
  get(atespace: string, actorId: string, deadline: Date): Promise<ateapi.Actor>;
  suspend(atespace: string, actorId: string, deadline: Date): Promise<ateapi.Actor>;
  close(): void;
}

/** A failed control-plane call, with the gRPC code the router maps to HTTP. */
export class ControlCallError extends Error {
  override readonly name = 'ControlCallError';

  constructor(
    readonly grpcCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The `ateapi.Control` gRPC client (plaintext on loopback; a bearer token file when ateapi runs jwt mode). */
export class GrpcControlClient implements ControlPort {
  private readonly client: ateapi.ControlClient;

  constructor(
    address: string,
    private readonly tokenFile?: string,
  ) {
    this.client = new ateapi.ControlClient(address, credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
      'grpc.keepalive_time_ms': 30_000,
    });
  }

  resume(atespace: string, actorId: string, deadline: Date): Promise<ateapi.Actor> {
    return this.call('resumeActor', { actorRef: { atespace, name: actorId }, boot: false }, deadline);
  }

  get(atespace: string, actorId: string, deadline: Date): Promise<ateapi.Actor> {
    return this.call('getActor', { actorRef: { atespace, name: actorId } }, deadline);
  }

  suspend(atespace: string, actorId: string, deadline: Date): Promise<ateapi.Actor> {
    return this.call('suspendActor', { actorRef: { atespace, name: actorId } }, deadline);
  }

  close(): void {
    this.client.close();
  }

  private async call(
    method: 'resumeActor' | 'getActor' | 'suspendActor',
    request: object,
    deadline: Date,
  ): Promise<ateapi.Actor> {
    const metadata = new Metadata();
    if (this.tokenFile)
      metadata.set('authorization', `Bearer ${(await readFile(this.tokenFile, 'utf8')).trim()}`);
    const fn = this.client[method].bind(this.client) as (
      req: object,
      md: Metadata,
      opts: { deadline: Date },
      cb: (error: ServiceError | null, response: { actor?: ateapi.Actor }) => void,
    ) => unknown;
    return new Promise((resolve, reject) => {
      fn(request, metadata, { deadline }, (error, response) => {
        if (error) reject(new ControlCallError(error.code, error.details || error.message, { cause: error }));
        else if (!response.actor)
          reject(new ControlCallError(status.INTERNAL, 'ateapi answered without an actor'));
        else resolve(response.actor);
      });
    });
  }
}
