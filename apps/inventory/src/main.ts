import { Logger } from '@nestjs/common';
import { createValidationPipes } from '@platform/contracts';
import { createUserContextMicroservice } from '@platform/user-context';

import { AppModule } from './app.module';
import { loadInventoryConfig } from './inventory.config';

async function bootstrap(): Promise<void> {
  const config = loadInventoryConfig();
  const app = await createUserContextMicroservice(AppModule.forRoot(config), config.tcp);
  // Services validate every payload themselves: a message may come from
  // anything that has a valid envelope, not only from the gateway.
  app.useGlobalPipes(...createValidationPipes());
  app.enableShutdownHooks();

  await app.listen();
  Logger.log(`Inventory service listening on tcp://${config.tcp.host}:${config.tcp.port}`, 'Bootstrap');
}

bootstrap().catch((error: Error) => {
  Logger.error(`Inventory service failed to start: ${error.message}`, error.stack, 'Bootstrap');
  process.exit(1);
});
