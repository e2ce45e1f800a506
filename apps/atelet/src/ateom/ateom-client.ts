import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ateom } from '@substrate/proto';
import { AteomCallError, AteomUnavailableError } from '../errors/atelet-error';

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/**
 * The `ateom.Ateom` client of one worker, over its unix socket. Every call has a deadline; a status the
 * ateom answers with becomes an {@link AteomCallError} carrying the same code and message, an ateom that
 * cannot be reached an {@link AteomUnavailableError}.
 */
export class AteomClient {
  private readonly raw: ateom.AteomClient;

  constructor(
    readonly worker: string,
    readonly socket: string,
    private readonly timeoutMs: number,
  ) {
    this.raw = new ateom.AteomClient(`unix://${socket}`, credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1_000,
    });
  }

  async run(request: ateom.RunWorkloadRequest): Promise<void> {
    await this.call('RunWorkload', (c) => c.runWorkload.bind(c), request);
  }

  async checkpoint(request: ateom.CheckpointWorkloadRequest): Promise<readonly string[]> {
    const response = await this.call('CheckpointWorkload', (c) => c.checkpointWorkload.bind(c), request);
    return response.snapshotFiles;
  }

  async restore(request: ateom.RestoreWorkloadRequest): Promise<void> {
    await this.call('RestoreWorkload', (c) => c.restoreWorkload.bind(c), request);
  }

  close(): void {
    this.raw.close();
  }

  private call<Req, Res>(
    operation: string,
    method: (client: ateom.AteomClient) => Unary<Req, Res>,
    request: Req,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      method(this.raw)(
        request,
        new Metadata(),
        { deadline: new Date(Date.now() + this.timeoutMs) },
        (error, response) => {
          if (error === null) {
            resolve(response);
            return;
          }
          // UNAVAILABLE without a server message: the socket could not be reached.
          if (error.code === status.UNAVAILABLE && !error.details.includes('ateom')) {
            reject(
              new AteomUnavailableError(
                this.worker,
                `${operation} on unix://${this.socket}: ${error.details}`,
                { cause: error },
              ),
            );
            return;
          }
          reject(
            new AteomCallError(error.code, error.details, `ateom ${this.worker} ${operation}`, {
              cause: error,
            }),
          );
        },
      );
    });
  }
}
