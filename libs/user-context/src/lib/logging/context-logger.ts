import { ConsoleLogger, LogLevel } from '@nestjs/common';

import { currentScope } from '../context/request-scope';

/**
 * A `ConsoleLogger` that adds the request id of the current scope to every
 * line logged while a request or message is handled, on any transport, so
 * that log lines join up with audit lines and with the other services'
 * lines. Lines logged outside a scope, such as start-up, are unchanged. In
 * JSON mode the id is a `requestId` field.
 *
 * @example
 * const app = await NestFactory.create(AppModule, { logger: new ContextLogger() });
 */
export class ContextLogger extends ConsoleLogger {
  protected override formatContext(context: string): string {
    const requestId = currentScope()?.requestId;
    const formatted = super.formatContext(context);
    return requestId ? `${formatted}[request ${requestId}] ` : formatted;
  }

  protected override getJsonLogObject(
    message: unknown,
    options: {
      context: string;
      logLevel: LogLevel;
      writeStreamType?: 'stdout' | 'stderr';
      errorStack?: unknown;
    },
  ) {
    const object = super.getJsonLogObject(message, options);
    const requestId = currentScope()?.requestId;
    return requestId ? Object.assign(object, { requestId }) : object;
  }
}
