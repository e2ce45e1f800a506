import { status } from '@grpc/grpc-js';

/** An HTTP answer for a request the router could not forward. */
export interface RouterError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

/**
 * Maps a control-plane (ResumeActor) failure to the HTTP answer, as upstream's router does: NOT_FOUND
 * 404, FAILED_PRECONDITION and UNAVAILABLE 503 (with Retry-After), DEADLINE_EXCEEDED 504,
 * PERMISSION_DENIED 403, UNAUTHENTICATED 401, RESOURCE_EXHAUSTED 429; anything else 500 without detail.
 */
export function mapWakeFailure(actorId: string, grpcCode: number, message: string): RouterError {
  const quoted = JSON.stringify(actorId);
  switch (grpcCode) {
    case status.NOT_FOUND:
      return { status: 404, code: 'NOT_FOUND', message: `actor ${quoted} not found` };
    case status.FAILED_PRECONDITION:
      return {
        status: 503,
        code: 'UNAVAILABLE',
        message: `actor ${quoted} unavailable: ${message}`,
        retryAfterSeconds: 1,
      };
    case status.UNAVAILABLE:
      return {
        status: 503,
        code: 'UNAVAILABLE',
        message: `actor ${quoted} unavailable`,
        retryAfterSeconds: 1,
      };
    case status.ABORTED:
      return {
        status: 503,
        code: 'UNAVAILABLE',
        message: `actor ${quoted} unavailable: ${message}`,
        retryAfterSeconds: 1,
      };
    case status.DEADLINE_EXCEEDED:
      return { status: 504, code: 'DEADLINE_EXCEEDED', message: `actor ${quoted} request timed out` };
    case status.PERMISSION_DENIED:
      return { status: 403, code: 'PERMISSION_DENIED', message: `actor ${quoted} access denied` };
    case status.UNAUTHENTICATED:
      return { status: 401, code: 'UNAUTHENTICATED', message: `actor ${quoted} authentication required` };
    case status.RESOURCE_EXHAUSTED:
      return {
        status: 429,
        code: 'RESOURCE_EXHAUSTED',
        message: `actor ${quoted} rate limited`,
        retryAfterSeconds: 1,
      };
    default:
      return { status: 500, code: 'INTERNAL', message: `error resuming actor ${quoted}` };
  }
}
