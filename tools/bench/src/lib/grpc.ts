// Unary calls of the generated grpc-js clients as promises, with a deadline: what every benchmark that
// drives a component over gRPC needs.
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { type ateapi } from '@substrate/proto';

/** The callback form of one unary method of a generated client. */
export type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** One call of `method` (bound to its client), as a promise; fails with the call's ServiceError. */
export function unaryCall<Req, Res>(method: Unary<Req, Res>, request: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

type RequestOf<M> = M extends Unary<infer Req, unknown> ? Req : never;
type ResponseOf<M> = M extends Unary<never, infer Res> ? Res : never;

/** One call of ateapi's Control service, the method named and both messages typed. */
export function controlCall<M extends keyof ateapi.ControlClient & string>(
  client: ateapi.ControlClient,
  method: M,
  request: RequestOf<ateapi.ControlClient[M]>,
  timeoutMs = 30_000,
): Promise<ResponseOf<ateapi.ControlClient[M]>> {
  const fn = client[method] as unknown as Unary<unknown, unknown>;
  return unaryCall(fn.bind(client), request, timeoutMs) as Promise<ResponseOf<ateapi.ControlClient[M]>>;
}
