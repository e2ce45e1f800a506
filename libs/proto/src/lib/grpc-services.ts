import type { Metadata, ServerUnaryCall, ServiceDefinition } from '@grpc/grpc-js';

/**
 * One unary method of a generated grpc-js service definition (`ateapi.ControlService.getActor`, …):
 * the full path `/<package>.<Service>/<Rpc>` and the generated (de)serializers.
 */
export interface UnaryMethodDefinition<Req, Res> {
  readonly path: string;
  readonly requestStream: false;
  readonly responseStream: false;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => Req;
  readonly responseSerialize: (value: Res) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Res;
}

/** A generated grpc-js service definition: lowerCamelCase method name → method. All our RPCs are unary. */
export type GrpcServiceDefinition = {
  // `any` is needed for variance: each method has its own request and response types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly [method: string]: UnaryMethodDefinition<any, any>;
};

/** The request message type of a method of a generated service definition. */
export type GrpcRequestOf<M> = M extends { requestDeserialize(bytes: Buffer): infer Req } ? Req : never;

/** The response message type of a method of a generated service definition. */
export type GrpcResponseOf<M> = M extends { responseDeserialize(bytes: Buffer): infer Res } ? Res : never;

/**
 * The shape of a NestJS gRPC controller for a service: one handler per RPC, keyed by the generated
 * lowerCamelCase method name, taking the decoded request (plus metadata and the raw call) and returning
 * the response or a promise of it. Implement `Partial<NestGrpcHandlers<…>>` for a partial service;
 * missing RPCs answer UNIMPLEMENTED.
 *
 * @example
 * class ControlGrpcController implements Partial<NestGrpcHandlers<ateapi.ControlService>> {
 *   @GrpcMethod(...grpcMethod(ateapi.ControlService, 'getActor'))
 *   async getActor(request: ateapi.GetActorRequest): Promise<ateapi.GetActorResponse> { … }
 * }
 */
export type NestGrpcHandlers<S extends GrpcServiceDefinition> = {
  [K in keyof S]: (
    request: GrpcRequestOf<S[K]>,
    metadata: Metadata,
    call: ServerUnaryCall<GrpcRequestOf<S[K]>, GrpcResponseOf<S[K]>>,
  ) => GrpcResponseOf<S[K]> | Promise<GrpcResponseOf<S[K]>>;
};

/**
 * Splits a method path `/<package>.<Service>/<Rpc>` into the fully qualified service name and the RPC
 * name, e.g. `['ateapi.Control', 'GetActor']`.
 */
export function splitMethodPath(path: string): [service: string, rpc: string] {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (!match?.[1] || !match[2]) {
    throw new Error(
      `invalid gRPC method path ${JSON.stringify(path)}: expected "/<package>.<Service>/<Rpc>"`,
    );
  }
  return [match[1], match[2]];
}

/**
 * The arguments for NestJS's `@GrpcMethod(service, rpc)` for one method of a generated service
 * definition: the fully qualified service name and the RPC name as written in the .proto file. The
 * method key is checked by the compiler, so a typo fails the build instead of leaving the RPC
 * unimplemented at run time.
 *
 * @example `@GrpcMethod(...grpcMethod(ateapi.ControlService, 'getActor'))` ≡ `@GrpcMethod('ateapi.Control', 'GetActor')`
 */
export function grpcMethod<S extends GrpcServiceDefinition>(
  service: S,
  method: keyof S & string,
): [service: string, rpc: string] {
  const definition = service[method];
  if (!definition) {
    throw new Error(`the service definition has no method ${JSON.stringify(method)}`);
  }
  return splitMethodPath(definition.path);
}

/**
 * A grpc-js package definition (fully qualified service name → service definition): what
 * `@grpc/proto-loader` would produce from the .proto files, and what NestJS's gRPC transport accepts
 * as its `packageDefinition` option.
 */
export type GrpcPackageDefinition = Record<string, ServiceDefinition>;

/**
 * Builds the `packageDefinition` for NestJS's gRPC transport (or `grpc.loadPackageDefinition`) from
 * generated service definitions keyed by fully qualified service name, so Nest serves the services
 * with the generated encoders and TypeScript types instead of loading .proto files at run time.
 *
 * Each method is re-keyed by its RPC name as written in the .proto file (`GetActor`) and keeps its
 * generated name (`getActor`) as `originalName`, exactly like `@grpc/proto-loader` output, so Nest's
 * usual `@GrpcMethod('Control', 'GetActor')` and `@GrpcMethod('ateapi.Control', 'GetActor')` both match.
 *
 * @throws if a service is keyed by a name that is not the one in its method paths.
 * @example nestGrpcPackageDefinition({ 'ateapi.Control': ateapi.ControlService })
 */
export function nestGrpcPackageDefinition(
  services: Readonly<Record<string, GrpcServiceDefinition>>,
): GrpcPackageDefinition {
  const packageDefinition: GrpcPackageDefinition = {};
  for (const [serviceName, service] of Object.entries(services)) {
    const methods: Record<string, GrpcServiceDefinition[string] & { originalName: string }> = {};
    for (const [generatedName, method] of Object.entries(service)) {
      const [pathService, rpc] = splitMethodPath(method.path);
      if (pathService !== serviceName) {
        throw new Error(
          `service definition keyed as ${JSON.stringify(serviceName)} has method ${method.path}; ` +
            `key it by its fully qualified name ${JSON.stringify(pathService)}`,
        );
      }
      methods[rpc] = { ...method, originalName: generatedName };
    }
    packageDefinition[serviceName] = methods;
  }
  return packageDefinition;
}
