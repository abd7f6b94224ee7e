import { DynamicModule, Module } from '@nestjs/common';
import { UserContextModule } from '@platform/user-context';

import { GATEWAY_CONFIG, GatewayConfig } from './gateway.config';
import { HealthController } from './health.controller';
import { MeController } from './me.controller';
import {
  registerServiceClients,
  ServiceConnector,
  serviceClientProviders,
} from './service-clients';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        UserContextModule.forRoot({
          role: 'gateway',
          serviceName: 'gateway',
          jwt: config.jwt,
          claimsMapper: config.claimsMapper,
          envelope: config.envelope,
        }),
        ...registerServiceClients(config),
      ],
      controllers: [
        HealthController,
        MeController,
        ...config.services.flatMap((target) => target.controllers),
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        ...serviceClientProviders(config),
        ServiceConnector,
      ],
    };
  }
}
