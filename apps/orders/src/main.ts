import { Logger } from '@nestjs/common';
import { createValidationPipes, ORDERS_GRPC } from '@platform/contracts';
import {
  createUserContextMicroservice,
  describeListener,
} from '@platform/user-context';

import { AppModule } from './app.module';
import { loadOrdersConfig } from './orders.config';

async function bootstrap(): Promise<void> {
  const config = loadOrdersConfig();
  const listener = {
    transport: config.transport,
    serviceName: 'orders',
    ...config.address,
    grpc: ORDERS_GRPC,
  };
  const app = await createUserContextMicroservice(
    AppModule.forRoot(config),
    listener,
  );
  // Services validate every payload themselves: a message may come from
  // anything that has a valid envelope, not only from the gateway.
  app.useGlobalPipes(...createValidationPipes());
  app.enableShutdownHooks();

  await app.listen();
  Logger.log(
    `Orders service listening on ${describeListener(listener)}`,
    'Bootstrap',
  );
}

bootstrap().catch((error: Error) => {
  Logger.error(
    `Orders service failed to start: ${error.message}`,
    error.stack,
    'Bootstrap',
  );
  process.exit(1);
});
