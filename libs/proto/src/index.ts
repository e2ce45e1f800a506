// @substrate/proto: the Substrate gRPC contracts and their generated TypeScript.
//
// Messages, enums, services and clients are exported per protobuf package, as the namespaces
// `ateapi`, `atelet` and `ateom` (atelet and ateom both define Container, WorkloadSpec, Readyz, …).
// Every message `M` is both an interface and a value with M.encode / decode / fromJSON / toJSON /
// create / fromPartial. int64 fields are `number`, enums are numeric TypeScript enums with upstream's
// values, oneofs are `{ $case, value }` unions; see docs/protocol.md.
export * as ateapi from './lib/ateapi';
export * as atelet from './lib/atelet';
export * as ateom from './lib/ateom';
export type { DeepPartial, MessageFns } from './generated/ateapi/ateapi';

export { ATEAPI_SERVICES, ATELET_SERVICES, ATEOM_SERVICES } from './lib/services';
export {
  type GrpcPackageDefinition,
  type GrpcRequestOf,
  type GrpcResponseOf,
  type GrpcServiceDefinition,
  type NestGrpcHandlers,
  type UnaryMethodDefinition,
  grpcMethod,
  nestGrpcPackageDefinition,
  splitMethodPath,
} from './lib/grpc-services';
export { PROTO_DIR, PROTO_FILES } from './lib/proto-dir';
export { ACTOR_CHANGES_CHANNEL } from './lib/channels';
