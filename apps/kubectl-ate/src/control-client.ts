import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ateapi } from '@substrate/proto';

/** A failed call: the message the user sees. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

type Unary = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: unknown) => void,
) => unknown;

/** The ateapi.Control client the commands use (plaintext by default; a bearer token file in jwt mode). */
export class ControlConnection {
  private readonly client: ateapi.ControlClient;

  constructor(
    readonly endpoint: string,
    private readonly tokenFile: string | undefined,
    private readonly timeoutMs = 60_000,
  ) {
    this.client = new ateapi.ControlClient(endpoint, credentials.createInsecure());
  }

  call<Res>(method: keyof ateapi.ControlClient & string, request: unknown): Promise<Res> {
    const metadata = new Metadata();
    if (this.tokenFile)
      metadata.set('authorization', `Bearer ${readFileSync(this.tokenFile, 'utf8').trim()}`);
    const fn = (this.client[method] as unknown as Unary).bind(this.client);
    return new Promise((resolve, reject) => {
      fn(request, metadata, { deadline: new Date(Date.now() + this.timeoutMs) }, (error, response) => {
        if (!error) resolve(response as Res);
        else if (error.code === 14)
          reject(
            new CliError(
              `cannot reach ateapi at ${this.endpoint}: ${error.details || error.message} (set --endpoint or ATE_ENDPOINT)`,
            ),
          );
        else reject(new CliError(error.details || error.message));
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
