import { resolve } from 'node:path';

/**
 * Absolute path of the directory holding the .proto files (`ateapi/ateapi.proto`,
 * `atelet/atelet.proto`, `ateom/ateom.proto`), for tools that need the sources: `buf`, grpcurl,
 * gRPC reflection, or a NestJS `protoPath` with `@grpc/proto-loader`.
 */
export const PROTO_DIR: string = resolve(__dirname, '../../proto');

/** Path of each .proto file relative to {@link PROTO_DIR}, which is also its import path. */
export const PROTO_FILES = {
  ateapi: 'ateapi/ateapi.proto',
  atelet: 'atelet/atelet.proto',
  ateom: 'ateom/ateom.proto',
} as const;
