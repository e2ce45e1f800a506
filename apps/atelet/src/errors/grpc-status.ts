import { status } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import { AteletError, AteomCallError, StorageFailureError, type AteletErrorCode } from './atelet-error';

/** The gRPC status of each error code: the one place where atelet's errors meet the transport. */
const STATUS_OF: Readonly<Record<AteletErrorCode, status>> = {
  INVALID_REQUEST: status.INVALID_ARGUMENT,
  INVALID_IMAGE_REFERENCE: status.INVALID_ARGUMENT,
  UNKNOWN_WORKER: status.NOT_FOUND,
  IMAGE_NOT_FOUND: status.NOT_FOUND,
  SNAPSHOT_NOT_FOUND: status.NOT_FOUND,
  ACTOR_LOG_NOT_FOUND: status.NOT_FOUND,
  WORKER_BUSY: status.FAILED_PRECONDITION,
  NO_ASSETS_FOR_ARCH: status.FAILED_PRECONDITION,
  ASSET_CHECKSUM_MISMATCH: status.FAILED_PRECONDITION,
  IMAGE_INVALID: status.FAILED_PRECONDITION,
  LAYER_DIGEST_MISMATCH: status.FAILED_PRECONDITION,
  UNSAFE_LAYER_ENTRY: status.FAILED_PRECONDITION,
  NOT_RUNNING: status.FAILED_PRECONDITION,
  SNAPSHOT_INTEGRITY: status.DATA_LOSS,
  ASSET_FETCH_FAILED: status.UNAVAILABLE,
  ATEOM_UNAVAILABLE: status.UNAVAILABLE,
  SHUTTING_DOWN: status.UNAVAILABLE,
};

/** The gRPC status and message for an error thrown by an AteomHerder operation. */
export function grpcStatusOf(error: unknown): { code: status; message: string } {
  if (error instanceof AteomCallError) return { code: error.grpcCode, message: error.details };
  if (error instanceof StorageFailureError) return { code: status[error.grpcHint], message: error.message };
  if (error instanceof AteletError) return { code: STATUS_OF[error.code], message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: status.INTERNAL, message: `internal server error: ${message}` };
}

/** Runs a handler body and turns any failure into an {@link RpcException} with its gRPC status. */
export async function atGrpcEdge<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw new RpcException(grpcStatusOf(error));
  }
}
