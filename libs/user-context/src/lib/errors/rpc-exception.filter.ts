import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { STATUS_CODES } from 'node:http';
import { Observable, throwError } from 'rxjs';

import { toRpcErrorBody } from './rpc-error';

/**
 * Gives every error Nest's HTTP error shape `{ statusCode, message, error }`.
 *
 * RPC: without it, Nest turns an `HttpException` thrown in a message handler
 * into `{ status: 'error', message: 'Internal server error' }` and the
 * gateway can only return 500. With it, a `ForbiddenException` in orders
 * reaches the HTTP client as 403.
 *
 * HTTP: Nest's default handling, except that exceptions built from a bare
 * string (Fastify's own errors, such as invalid JSON or a body too large)
 * get the `error` field too.
 */
@Catch()
export class UserContextExceptionFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(UserContextExceptionFilter.name);

  override catch(
    exception: unknown,
    host: ArgumentsHost,
  ): Observable<never> | void {
    if (host.getType() !== 'rpc') {
      return super.catch(withErrorField(exception), host);
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

function withErrorField(exception: unknown): unknown {
  if (
    !(exception instanceof HttpException) ||
    typeof exception.getResponse() !== 'string'
  ) {
    return exception;
  }
  const statusCode = exception.getStatus();
  return new HttpException(
    {
      statusCode,
      message: exception.getResponse(),
      error: STATUS_CODES[statusCode] ?? 'Error',
    },
    statusCode,
    { cause: exception },
  );
}
