import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { httpStatusOf, toControlError } from '../errors/control-error';

/** The part of Express's response this filter uses. */
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

/**
 * The one place where errors become HTTP answers on the REST gateway: a ControlError keeps its code
 * (as `code`) and message, with the HTTP status of that code; Nest's own HTTP errors (a malformed JSON
 * body, an unknown route) keep theirs; anything else is a 500 `internal server error: …`, logged.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ateapi.rest');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<JsonResponse>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message =
        typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? exception.message);
      response.status(status).json({
        code: status === 404 ? 'NOT_FOUND' : status === 400 ? 'INVALID_ARGUMENT' : 'HTTP_' + String(status),
        message: Array.isArray(message) ? message.join('; ') : String(message),
      });
      return;
    }
    const error = toControlError(exception);
    if (error.code === 'INTERNAL')
      this.logger.error(error.message, exception instanceof Error ? exception.stack : undefined);
    response.status(httpStatusOf(error.code)).json({ code: error.code, message: error.message });
  }
}
