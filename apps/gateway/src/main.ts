import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  FastifyAdapter,
  NestFastifyApplication,
} from '@nestjs/platform-fastify';

import { createValidationPipes } from '@platform/contracts';
import { ContextLogger } from '@platform/user-context';

import { AppModule } from './app.module';
import { loadGatewayConfig } from './gateway.config';

/** Largest request body: an order of 50 lines is under 4 KiB. */
const BODY_LIMIT_BYTES = 16 * 1024;
/** A request whose body has not fully arrived by then gets 408. */
const REQUEST_TIMEOUT_MS = 30_000;

async function bootstrap(): Promise<void> {
  const config = loadGatewayConfig();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    new FastifyAdapter({
      bodyLimit: BODY_LIMIT_BYTES,
      requestTimeout: REQUEST_TIMEOUT_MS,
    }),
    // Adds the request id to every line logged while a request is handled.
    { logger: new ContextLogger() },
  );
  app.useGlobalPipes(...createValidationPipes());
  app.enableShutdownHooks();

  await app.listen(config.http.port, config.http.host);
  Logger.log(
    `Gateway listening on http://${config.http.host}:${config.http.port}`,
    'Bootstrap',
  );
}

bootstrap().catch((error: Error) => {
  Logger.error(
    `Gateway failed to start: ${error.message}`,
    error.stack,
    'Bootstrap',
  );
  process.exit(1);
});
