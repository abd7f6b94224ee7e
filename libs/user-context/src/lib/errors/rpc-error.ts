import { HttpException, HttpStatus } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';

import { ContextEnvelopeError } from '../envelope/context-envelope.error';

/**
 * The error body that crosses a transport. It has Nest's HTTP error shape so
 * the gateway can return it to the HTTP client unchanged.
 */
export interface RpcErrorBody {
  statusCode: number;
  message: string | string[];
  error?: string;
}

/** Converts any exception thrown in a service into an `RpcErrorBody`. */
export function toRpcErrorBody(exception: unknown): RpcErrorBody {
  if (exception instanceof HttpException) {
    return fromHttpException(exception);
  }
  if (exception instanceof ContextEnvelopeError) {
    return {
      statusCode: HttpStatus.UNAUTHORIZED,
      message: exception.message,
      error: 'Unauthorized',
    };
  }
  if (exception instanceof RpcException) {
    const error = exception.getError();
    if (isRpcErrorBody(error)) {
      return error;
    }
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      message: typeof error === 'string' ? error : 'Internal server error',
      error: 'Internal Server Error',
    };
  }
  return {
    statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
    message: 'Internal server error',
    error: 'Internal Server Error',
  };
}

/** Checks that a value has the `RpcErrorBody` shape with an HTTP error status. */
export function isRpcErrorBody(value: unknown): value is RpcErrorBody {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const { statusCode, message } = value as Record<string, unknown>;
  return (
    Number.isInteger(statusCode) &&
    (statusCode as number) >= 400 &&
    (statusCode as number) <= 599 &&
    (typeof message === 'string' || Array.isArray(message))
  );
}

function fromHttpException(exception: HttpException): RpcErrorBody {
  const statusCode = exception.getStatus();
  const response = exception.getResponse();
  if (typeof response === 'string') {
    return { statusCode, message: response };
  }
  const body = response as Record<string, unknown>;
  const message = body.message;
  return {
    statusCode,
    message:
      typeof message === 'string' || Array.isArray(message)
        ? (message as string | string[])
        : exception.message,
    ...(typeof body.error === 'string' ? { error: body.error } : {}),
  };
}
