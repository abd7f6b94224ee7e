import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Provider,
} from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import {
  INVENTORY_CLIENT,
  INVENTORY_GRPC,
  ORDERS_CLIENT,
  ORDERS_GRPC,
} from '@platform/contracts';
import { registerContextClients, ServiceClient } from '@platform/user-context';

import { GatewayConfig } from './gateway.config';

export const ORDERS_SERVICE = Symbol('ORDERS_SERVICE');
export const INVENTORY_SERVICE = Symbol('INVENTORY_SERVICE');

/** Clients, on the configured transport, that sign the caller's context onto every message. */
export function registerServiceClients(config: GatewayConfig) {
  return registerContextClients(
    [
      {
        name: ORDERS_CLIENT,
        service: 'orders',
        ...config.orders,
        grpc: ORDERS_GRPC,
      },
      {
        name: INVENTORY_CLIENT,
        service: 'inventory',
        ...config.inventory,
        grpc: INVENTORY_GRPC,
      },
    ],
    config.transport,
    { requestTimeoutMs: config.rpcTimeoutMs },
  );
}

/** `ServiceClient`s that map transport failures to HTTP errors. */
export function serviceClientProviders(config: GatewayConfig): Provider[] {
  return [
    {
      provide: ORDERS_SERVICE,
      inject: [ORDERS_CLIENT],
      useFactory: (client: ClientProxy) =>
        new ServiceClient(client, 'orders', config.rpcTimeoutMs),
    },
    {
      provide: INVENTORY_SERVICE,
      inject: [INVENTORY_CLIENT],
      useFactory: (client: ClientProxy) =>
        new ServiceClient(client, 'inventory', config.rpcTimeoutMs),
    },
  ];
}

/**
 * Opens the service connections at start-up, so the first request does not
 * pay for them. A service that is not up yet is only a warning: the client
 * connects on the next call.
 */
@Injectable()
export class ServiceConnector implements OnApplicationBootstrap {
  private readonly logger = new Logger(ServiceConnector.name);

  constructor(
    @Inject(ORDERS_CLIENT) private readonly orders: ClientProxy,
    @Inject(INVENTORY_CLIENT) private readonly inventory: ClientProxy,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([
      this.connect('orders', this.orders),
      this.connect('inventory', this.inventory),
    ]);
  }

  private async connect(name: string, client: ClientProxy): Promise<void> {
    try {
      await client.connect();
      this.logger.log(`Connected to the ${name} service.`);
    } catch (error) {
      this.logger.warn(
        `The ${name} service is not reachable yet (${(error as Error).message}); will retry on the first call.`,
      );
    }
  }
}
