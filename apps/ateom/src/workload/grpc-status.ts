import { status } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import { SandboxError, type SandboxErrorCode } from '../sandbox';

/** The gRPC status of each error code: the one place where ateom's errors meet the transport. */
const STATUS_OF: Readonly<Record<SandboxErrorCode, status>> = {
  INVALID_REQUEST: status.INVALID_ARGUMENT,
  INVALID_NAME: status.INVALID_ARGUMENT,
  INVALID_SPEC: status.INVALID_ARGUMENT,
  INVALID_ADDRESS: status.INVALID_ARGUMENT,
  BUSY: status.FAILED_PRECONDITION,
  INVALID_STATE: status.FAILED_PRECONDITION,
  RUNTIME_MISMATCH: status.FAILED_PRECONDITION,
  MISSING_INPUT: status.FAILED_PRECONDITION,
  ADDRESS_IN_USE: status.FAILED_PRECONDITION,
  CONNECTIONS_OPEN: status.FAILED_PRECONDITION,
  NOT_READY: status.DEADLINE_EXCEEDED,
  COMMAND_TIMEOUT: status.DEADLINE_EXCEEDED,
  COMMAND_FAILED: status.INTERNAL,
  NETWORK_SETUP_FAILED: status.INTERNAL,
  RUNSC_FAILED: status.INTERNAL,
};

/** The gRPC status and message for an error thrown by a workload operation. */
export function grpcStatusOf(error: unknown): { code: status; message: string } {
  if (error instanceof SandboxError) return { code: STATUS_OF[error.code], message: error.message };
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
