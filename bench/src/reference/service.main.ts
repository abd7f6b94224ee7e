// Yardstick service: a bare Nest TCP microservice with no context, no guard,
// no validation and no database, returning the stock body.
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport } from '@nestjs/microservices';

import { portFromEnv, stockFixture } from '../stock-fixture';

@Controller()
class StockController {
  @MessagePattern('stock.get')
  get(@Payload() data: { sku: string }) {
    return stockFixture(data.sku);
  }
}

@Module({ controllers: [StockController] })
class ReferenceServiceModule {}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.createMicroservice(ReferenceServiceModule, {
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port: portFromEnv('SERVICE_PORT') },
    logger: ['error', 'warn'],
  });
  await app.listen();
}

void bootstrap();
