import type { GrpcServiceContract } from '@platform/user-context';
import { resolve } from 'node:path';

import { InventoryPatterns, OrderEvents, OrdersPatterns } from './patterns';

/** The `.proto` files, beside `src/` and `dist/`, so the same path works from sources and from builds. */
const PROTO_DIR = resolve(__dirname, '..', '..', 'proto');

/** The orders service's gRPC contract: which method serves which pattern. */
export const ORDERS_GRPC: GrpcServiceContract = {
  protoPath: resolve(PROTO_DIR, 'orders.proto'),
  package: 'platform.orders',
  service: 'OrdersService',
  methods: {
    [OrdersPatterns.create]: { rpc: 'CreateOrder' },
    [OrdersPatterns.list]: { rpc: 'ListOrders', listField: 'orders' },
    [OrdersPatterns.get]: { rpc: 'GetOrder' },
    [OrderEvents.reservationResult]: { rpc: 'ReservationResult', event: true },
  },
};

/** The inventory service's gRPC contract: which method serves which pattern. */
export const INVENTORY_GRPC: GrpcServiceContract = {
  protoPath: resolve(PROTO_DIR, 'inventory.proto'),
  package: 'platform.inventory',
  service: 'InventoryService',
  methods: {
    [InventoryPatterns.listStock]: { rpc: 'ListStock', listField: 'items' },
    [InventoryPatterns.getStock]: { rpc: 'GetStock' },
    [InventoryPatterns.listReservations]: {
      rpc: 'ListReservations',
      listField: 'reservations',
    },
    [OrderEvents.created]: { rpc: 'OrderCreated', event: true },
  },
};
