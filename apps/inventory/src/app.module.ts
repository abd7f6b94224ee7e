import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { ORDERS_CLIENT, ORDERS_GRPC } from '@platform/contracts';
import { typeOrmOptions } from '@platform/persistence';
import {
  registerContextClients,
  UserContextModule,
} from '@platform/user-context';

import { InventoryConfig } from './inventory.config';
import { InventoryController } from './inventory.controller';
import { InventoryService } from './inventory.service';
import { ReservationEntity } from './reservation.entity';
import { StockEntity } from './stock.entity';

@Module({})
export class AppModule {
  static forRoot(config: InventoryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        UserContextModule.forRoot({
          role: 'service',
          serviceName: 'inventory',
          envelope: config.envelope,
        }),
        TypeOrmModule.forRoot(
          typeOrmOptions(config.database, [StockEntity, ReservationEntity]),
        ),
        TypeOrmModule.forFeature([StockEntity, ReservationEntity]),
        registerContextClients(
          [
            {
              name: ORDERS_CLIENT,
              service: 'orders',
              ...config.orders,
              grpc: ORDERS_GRPC,
            },
          ],
          config.transport,
        ),
      ],
      controllers: [InventoryController],
      providers: [InventoryService],
    };
  }
}
