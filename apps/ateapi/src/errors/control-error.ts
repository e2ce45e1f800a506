import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * The failure modes of the control plane, named after the gRPC status they map to. Each transport maps
 * a code to its own status exactly once (gRPC in the gRPC exception filter, HTTP in the REST one);
 * services only throw {@link ControlError}s.
 */
export type ControlErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'UNIMPLEMENTED'
  | 'INTERNAL';

/**
 * An error the control plane reports to its caller. `message` is the literal text the caller sees
 * (clients and tests match on upstream's messages); `cause` keeps the underlying error for logs.
 */
export class ControlError extends Error {
  override readonly name = 'ControlError';

  constructor(
    readonly code: ControlErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const invalidArgument = (message: string): ControlError =>
  new ControlError('INVALID_ARGUMENT', message);
export const notFound = (message: string): ControlError => new ControlError('NOT_FOUND', message);
export const alreadyExists = (message: string): ControlError => new ControlError('ALREADY_EXISTS', message);
export const failedPrecondition = (message: string): ControlError =>
  new ControlError('FAILED_PRECONDITION', message);
export const unauthenticated = (message: string): ControlError =>
  new ControlError('UNAUTHENTICATED', message);
export const internal = (message: string, cause?: unknown): ControlError =>
  new ControlError('INTERNAL', message, { cause });

/** Upstream's message for a lost optimistic-concurrency race (gRPC ABORTED). */
export const CONFLICT_MESSAGE = 'concurrent update conflict, please retry';

/** A lost optimistic-concurrency race: the caller may retry the whole request. */
export const conflict = (cause?: unknown): ControlError =>
  new ControlError('ABORTED', CONFLICT_MESSAGE, { cause });

export function isControlError(error: unknown): error is ControlError {
  return error instanceof ControlError;
}

const GRPC_CODES: Readonly<Record<ControlErrorCode, GrpcStatus>> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  ABORTED: GrpcStatus.ABORTED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  UNIMPLEMENTED: GrpcStatus.UNIMPLEMENTED,
  INTERNAL: GrpcStatus.INTERNAL,
};

/** The gRPC status code of a control error code. */
export function grpcStatusOf(code: ControlErrorCode): GrpcStatus {
  return GRPC_CODES[code];
}

/** The control error code of a gRPC status code (for errors that come back from atelet). */
export function controlCodeOfGrpc(code: number): ControlErrorCode {
  for (const [name, value] of Object.entries(GRPC_CODES)) {
    if (value === code) return name as ControlErrorCode;
  }
  return 'INTERNAL';
}

const HTTP_STATUSES: Readonly<Record<ControlErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 412,
  ABORTED: 409,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
  RESOURCE_EXHAUSTED: 429,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  UNIMPLEMENTED: 501,
  INTERNAL: 500,
};

/** The HTTP status of a control error code (the REST gateway's mapping, as grpc-gateway does it). */
export function httpStatusOf(code: ControlErrorCode): number {
  return HTTP_STATUSES[code];
}

/**
 * Normalises anything thrown below a transport into a ControlError, as upstream's interceptor does: a
 * ControlError (or anything carrying a gRPC status, like an atelet error) keeps its code and message;
 * anything else becomes INTERNAL `internal server error: <message>`.
 */
export function toControlError(error: unknown): ControlError {
  if (error instanceof ControlError) return error;
  if (isGrpcStatusError(error)) {
    return new ControlError(controlCodeOfGrpc(error.code), error.details ?? error.message, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return internal(`internal server error: ${message}`, error);
}

function isGrpcStatusError(error: unknown): error is { code: number; details?: string; message: string } {
  return (
    error instanceof Error &&
    typeof (error as { code?: unknown }).code === 'number' &&
    'details' in error &&
    'metadata' in error
  );
}
