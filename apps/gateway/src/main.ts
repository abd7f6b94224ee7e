import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';

import { AppModule } from './app.module';
import { loadGatewayConfig } from './gateway.config';

async function bootstrap(): Promise<void> {
  const config = loadGatewayConfig();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    new FastifyAdapter(),
  );
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  app.enableShutdownHooks();

  await app.listen(config.http.port, config.http.host);
  Logger.log(`Gateway listening on http://${config.http.host}:${config.http.port}`, 'Bootstrap');
}

bootstrap().catch((error: Error) => {
  Logger.error(`Gateway failed to start: ${error.message}`, error.stack, 'Bootstrap');
  process.exit(1);
});
