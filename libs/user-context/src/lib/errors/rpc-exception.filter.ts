import { ArgumentsHost, Catch, HttpStatus, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { Observable, throwError } from 'rxjs';

import { toRpcErrorBody } from './rpc-error';

/**
 * Gives RPC errors Nest's HTTP error shape.
 *
 * Without it, Nest turns an `HttpException` thrown in a message handler into
 * `{ status: 'error', message: 'Internal server error' }` and the gateway
 * can only return 500. With it, a `ForbiddenException` in orders reaches the
 * HTTP client as 403. HTTP exceptions are left to Nest's default handling.
 */
@Catch()
export class UserContextExceptionFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(UserContextExceptionFilter.name);

  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() !== 'rpc') {
      return super.catch(exception, host);
    }

    const body = toRpcErrorBody(exception);
    if (body.statusCode >= HttpStatus.INTERNAL_SERVER_ERROR) {
      this.logger.error(
        `Handler failed: ${exception instanceof Error ? exception.stack : String(exception)}`,
      );
    }
    return throwError(() => body);
  }
}
