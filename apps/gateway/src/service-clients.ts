import {
  DynamicModule,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Provider,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ClientProxy } from '@nestjs/microservices';
import { registerContextClients, ServiceClient } from '@platform/user-context';

import { GATEWAY_CONFIG, GatewayConfig } from './gateway.config';
import { clientToken, serviceClientToken } from './inject-service.decorator';

/**
 * Clients, one per service on that service's transport, that sign the
 * caller's context onto every message.
 */
export function registerServiceClients(config: GatewayConfig): DynamicModule[] {
  return config.services.map((target) =>
    registerContextClients(
      [
        {
          name: clientToken(target.service),
          service: target.service,
          host: target.host,
          port: target.port,
          grpc: target.grpc,
        },
      ],
      target.transportSettings,
      { requestTimeoutMs: config.rpcTimeoutMs },
    ),
  );
}

/** `ServiceClient`s that map transport failures to HTTP errors. Inject them with `@InjectService()`. */
export function serviceClientProviders(config: GatewayConfig): Provider[] {
  return config.services.map(({ service }) => ({
    provide: serviceClientToken(service),
    inject: [clientToken(service)],
    useFactory: (client: ClientProxy) =>
      new ServiceClient(client, service, config.rpcTimeoutMs),
  }));
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
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(
      this.config.services.map(({ service }) =>
        this.connect(
          service,
          // Not strict: each client lives in the ClientsModule that registered it.
          this.moduleRef.get<ClientProxy>(clientToken(service), {
            strict: false,
          }),
        ),
      ),
    );
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
