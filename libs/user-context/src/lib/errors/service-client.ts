import {
  BadGatewayException,
  HttpException,
  HttpStatus,
  InternalServerErrorException,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';

import { ContextEnvelopeError } from '../envelope/context-envelope.error';
import { MissingUserContextError } from '../transport/propagation';
import { isRpcErrorBody } from './rpc-error';

// Socket errors, nats.js's CONNECTION_REFUSED and ServiceUnreachableError's UNAVAILABLE.
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'CONNECTION_REFUSED',
  'UNAVAILABLE',
]);

/** Messages of a connection that closed: Nest's TCP client, and ioredis. */
const CLOSED_MESSAGES = new Set(['Connection closed', 'Connection is closed.']);

/**
 * Calls a microservice from an HTTP handler and turns every failure into the
 * `HttpException` the client should see:
 *
 * - an error body with a status (400, 403, 404, ...) keeps that status,
 *   except 401: the service rejected the envelope, which is a key or clock
 *   mismatch between gateway and service, so the client gets 502;
 * - a refused or dropped connection, or no response within `timeoutMs`, is 503;
 * - a user context too large to sign is 401;
 * - a call made outside an authenticated scope is 500;
 * - anything else is 502, logged here with the service name.
 */
export class ServiceClient {
  private readonly logger = new Logger(ServiceClient.name);

  constructor(
    private readonly client: ClientProxy,
    private readonly serviceName: string,
    private readonly timeoutMs: number,
  ) {}

  async send<TResult>(pattern: string, data: unknown): Promise<TResult> {
    try {
      return await firstValueFrom(
        this.client.send<TResult>(pattern, data).pipe(timeout(this.timeoutMs)),
      );
    } catch (error) {
      throw this.toHttpException(error, pattern);
    }
  }

  private toHttpException(error: unknown, pattern: string): HttpException {
    if (isRpcErrorBody(error) && error.statusCode === HttpStatus.UNAUTHORIZED) {
      // The caller's token was verified here, so a service that rejects the
      // envelope means the two disagree on keys or clocks: a server fault.
      this.logger.error(
        `${this.serviceName} rejected the user context on "${pattern}": ${String(error.message)} ` +
          'Check that USER_CONTEXT_SECRET and USER_CONTEXT_KEY_ID match and that clocks agree.',
      );
      return new BadGatewayException(
        `The ${this.serviceName} service rejected the gateway's request.`,
      );
    }
    if (isRpcErrorBody(error)) {
      return new HttpException(error, error.statusCode);
    }
    if (error instanceof TimeoutError) {
      this.logger.warn(
        `${this.serviceName} did not respond to "${pattern}" within ${this.timeoutMs} ms.`,
      );
      return new ServiceUnavailableException(
        `The ${this.serviceName} service did not respond within ${this.timeoutMs} ms.`,
      );
    }
    if (error instanceof ContextEnvelopeError && error.reason === 'too-large') {
      return new UnauthorizedException(
        'The token carries too many roles or permissions to forward to services.',
      );
    }
    if (error instanceof MissingUserContextError) {
      // A bug in the calling app, such as a call from a @Public() route: not the service's fault.
      this.logger.error(
        `Call to ${this.serviceName} "${pattern}" has no user context: ${error.message}`,
      );
      return new InternalServerErrorException();
    }
    if (isUnreachable(error)) {
      this.logger.warn(
        `${this.serviceName} is unreachable for "${pattern}": ${String(error)}`,
      );
      return new ServiceUnavailableException(
        `The ${this.serviceName} service is unreachable.`,
      );
    }
    this.logger.error(
      `${this.serviceName} failed on "${pattern}": ${describe(error)}`,
    );
    return new BadGatewayException(`The ${this.serviceName} service failed.`);
  }
}

function isUnreachable(error: unknown): boolean {
  // Checks the shape, not `instanceof Error`, because Node creates socket
  // errors in its own realm. Inside a vm sandbox such as Jest's test
  // environment, that realm's Error differs from this module's global Error.
  if (typeof error === 'string') {
    // ClientRedis and ClientRMQ reject with this string while they reconnect.
    return error.startsWith('Error: Connection lost');
  }
  if (typeof error !== 'object' || error === null) {
    return false;
  }
  const { code, message, err } = error as {
    code?: unknown;
    message?: unknown;
    err?: unknown;
  };
  return (
    (typeof code === 'string' && UNREACHABLE_CODES.has(code)) ||
    (typeof message === 'string' && CLOSED_MESSAGES.has(message)) ||
    // ClientRMQ reports a failed connection as `{ err, url }`.
    (err !== undefined && err !== error && isUnreachable(err))
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    return error.stack ?? error.message;
  }
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
