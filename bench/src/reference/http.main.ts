// Yardstick gateway: a bare Nest app on Fastify with no auth and no context.
// `GET /me` returns the same body as the real gateway's /me, locally;
// `GET /inventory/:sku` forwards to the reference service over plain TCP.
import {
  Controller,
  Get,
  Inject,
  Module,
  OnApplicationBootstrap,
  Param,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxy } from '@nestjs/microservices';
import {
  FastifyAdapter,
  NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { firstValueFrom } from 'rxjs';

import {
  ME_FIXTURE,
  portFromEnv,
  registerServiceClient,
} from '../stock-fixture';

const SERVICE = 'REFERENCE_SERVICE';

@Controller()
class ReferenceController implements OnApplicationBootstrap {
  constructor(@Inject(SERVICE) private readonly service: ClientProxy) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.service.connect().catch(() => undefined);
  }

  @Get('me')
  me() {
    return ME_FIXTURE;
  }

  @Get('inventory/:sku')
  stock(@Param('sku') sku: string) {
    return firstValueFrom(this.service.send('stock.get', { sku }));
  }
}

@Module({
  imports: [registerServiceClient(SERVICE)],
  controllers: [ReferenceController],
})
class ReferenceHttpModule {}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(
    ReferenceHttpModule,
    new FastifyAdapter(),
    { logger: ['error', 'warn'] },
  );
  await app.listen(portFromEnv('HTTP_PORT'), '127.0.0.1');
}

void bootstrap();
