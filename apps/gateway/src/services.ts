import { Type } from '@nestjs/common';
import { INVENTORY_GRPC, ORDERS_GRPC } from '@platform/contracts';
import {
  ContextTransportName,
  GrpcServiceContract,
} from '@platform/user-context';

import { InventoryController } from './inventory.controller';
import { OrdersController } from './orders.controller';

/** A service behind the gateway, and the HTTP controllers that forward to it. */
export interface DownstreamService {
  /**
   * The service's name, as in its `UserContextModule` options: the audience
   * of its envelopes, its RabbitMQ queue, and the prefix of its address
   * variables (`orders` reads `ORDERS_HOST` and `ORDERS_PORT`).
   */
  service: string;
  /** Port of the service on TCP and gRPC when `<NAME>_PORT` is unset. */
  defaultPort: number;
  /** The service's `.proto` contract, for `TRANSPORT=grpc`. */
  grpc: GrpcServiceContract;
  /** Transport used while `TRANSPORT` is unset, and TCP when left out. */
  transport?: ContextTransportName;
  /** Gateway controllers whose routes call this service. */
  controllers: Type<unknown>[];
}

/**
 * Every service the gateway calls. `nx g @platform/nx-plugin:service`
 * appends an entry here for each service it generates.
 */
export const DOWNSTREAM_SERVICES: DownstreamService[] = [
  {
    service: 'orders',
    defaultPort: 3001,
    grpc: ORDERS_GRPC,
    controllers: [OrdersController],
  },
  {
    service: 'inventory',
    defaultPort: 3002,
    grpc: INVENTORY_GRPC,
    controllers: [InventoryController],
  },
];
