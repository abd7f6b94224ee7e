import {
  BadGatewayException,
  HttpException,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout, TimeoutError } from 'rxjs';

import { isRpcErrorBody } from './rpc-error';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/**
 * Calls a microservice from an HTTP handler and turns every failure into the
 * `HttpException` the client should see:
 *
 * - an error body with a status (401, 403, 400, 404, ...) keeps that status;
 * - a refused or dropped connection, or no answer within `timeoutMs`, is 503;
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
    if (isRpcErrorBody(error)) {
      return new HttpException(error, error.statusCode);
    }
    if (error instanceof TimeoutError) {
      this.logger.warn(`${this.serviceName} did not answer "${pattern}" within ${this.timeoutMs} ms.`);
      return new ServiceUnavailableException(
        `The ${this.serviceName} service did not answer within ${this.timeoutMs} ms.`,
      );
    }
    if (isUnreachable(error)) {
      this.logger.warn(`${this.serviceName} is unreachable for "${pattern}": ${String(error)}`);
      return new ServiceUnavailableException(`The ${this.serviceName} service is unreachable.`);
    }
    this.logger.error(`${this.serviceName} failed on "${pattern}": ${describe(error)}`);
    return new BadGatewayException(`The ${this.serviceName} service failed.`);
  }
}

function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false;
  }
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined && UNREACHABLE_CODES.has(code)) || error.message === 'Connection closed';
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
