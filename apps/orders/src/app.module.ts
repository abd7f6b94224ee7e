import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { INVENTORY_CLIENT, INVENTORY_GRPC } from '@platform/contracts';
import { typeOrmOptions } from '@platform/persistence';
import {
  registerContextClients,
  UserContextModule,
} from '@platform/user-context';

import { OrderEntity } from './order.entity';
import { OrdersConfig } from './orders.config';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

@Module({})
export class AppModule {
  static forRoot(config: OrdersConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        UserContextModule.forRoot({
          role: 'service',
          serviceName: 'orders',
          envelope: config.envelope,
        }),
        TypeOrmModule.forRoot(typeOrmOptions(config.database, [OrderEntity])),
        TypeOrmModule.forFeature([OrderEntity]),
        registerContextClients(
          [
            {
              name: INVENTORY_CLIENT,
              service: 'inventory',
              ...config.inventory,
              grpc: INVENTORY_GRPC,
            },
          ],
          config.transport,
        ),
      ],
      controllers: [OrdersController],
      providers: [OrdersService],
    };
  }
}
