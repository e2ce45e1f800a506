import { Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { Metadata, type StatusObject } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { grpcStatusOf, toControlError } from '../errors/control-error';

/**
 * The one place where errors become gRPC statuses: a ControlError keeps its code and message; any
 * other error becomes INTERNAL `internal server error: <message>` (upstream's normalisation) and is
 * logged with its stack.
 */
@Catch()
export class GrpcExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ateapi.grpc');

  catch(exception: unknown): Observable<never> {
    if (exception instanceof RpcException) {
      return throwError(() => exception.getError());
    }
    const error = toControlError(exception);
    if (error.code === 'INTERNAL') {
      this.logger.error(error.message, exception instanceof Error ? exception.stack : undefined);
    }
    const status: Partial<StatusObject> = {
      code: grpcStatusOf(error.code),
      details: error.message,
      metadata: new Metadata(),
    };
    return throwError(() => ({ ...status, message: error.message }));
  }
}
