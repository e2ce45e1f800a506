import { AteletError, type AteletErrorCode } from './atelet-error';

/** The HTTP status of the error codes atelet's HTTP endpoints can answer with; any other is a 500. */
const HTTP_STATUS_OF: Partial<Readonly<Record<AteletErrorCode, number>>> = {
  INVALID_REQUEST: 400,
  ACTOR_LOG_NOT_FOUND: 404,
  SHUTTING_DOWN: 503,
};

/** The JSON body of an HTTP error: the stable code and the message. */
export interface HttpErrorBody {
  readonly code: AteletErrorCode | 'INTERNAL';
  readonly message: string;
}

/** The one place where atelet's errors meet HTTP: the status and JSON body of an error. */
export function httpErrorOf(error: unknown): { status: number; body: HttpErrorBody } {
  if (error instanceof AteletError) {
    const status = HTTP_STATUS_OF[error.code];
    if (status !== undefined) return { status, body: { code: error.code, message: error.message } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { code: 'INTERNAL', message: `internal server error: ${message}` } };
}
