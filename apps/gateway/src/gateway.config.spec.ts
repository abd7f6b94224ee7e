import { Controller } from '@nestjs/common';
import { ORDERS_GRPC } from '@platform/contracts';

import { loadGatewayConfig } from './gateway.config';
import { DOWNSTREAM_SERVICES, DownstreamService } from './services';

const SECRETS = {
  JWT_SECRET: 'gateway-spec-jwt-secret-0123456789abcdef',
  USER_CONTEXT_SECRET: 'gateway-spec-context-secret-0123456789ab',
};

@Controller('profiles')
class ProfilesController {}

const profiles: DownstreamService = {
  service: 'user-profiles',
  defaultPort: 3010,
  grpc: ORDERS_GRPC,
  transport: 'nats',
  controllers: [ProfilesController],
};

function servicesOf(env: NodeJS.ProcessEnv, services?: DownstreamService[]) {
  return loadGatewayConfig({ ...SECRETS, ...env }, services).services;
}

/**
 * The services the workspace ships with. Services a team generates later
 * join DOWNSTREAM_SERVICES with transports of their own, so the specs of the
 * default list look at these two only.
 */
const SHIPPED = DOWNSTREAM_SERVICES.filter(({ service }) =>
  ['orders', 'inventory'].includes(service),
);

function shippedServicesOf(env: NodeJS.ProcessEnv) {
  return servicesOf(env, SHIPPED);
}

describe('loadGatewayConfig', () => {
  it('lists every service of DOWNSTREAM_SERVICES by default', () => {
    expect(servicesOf({}).map(({ service }) => service)).toEqual(
      DOWNSTREAM_SERVICES.map(({ service }) => service),
    );
  });

  describe('with orders and inventory', () => {
    it('lists orders and inventory on their default ports', () => {
      expect(
        shippedServicesOf({}).map(({ service, host, port }) => ({
          service,
          host,
          port,
        })),
      ).toEqual([
        { service: 'orders', host: '127.0.0.1', port: 3001 },
        { service: 'inventory', host: '127.0.0.1', port: 3002 },
      ]);
    });

    it('reads each address from its own variables', () => {
      const [orders, inventory] = shippedServicesOf({
        ORDERS_HOST: 'orders.internal',
        ORDERS_PORT: '4001',
        INVENTORY_PORT: '4002',
      });

      expect(orders).toMatchObject({ host: 'orders.internal', port: 4001 });
      expect(inventory).toMatchObject({ host: '127.0.0.1', port: 4002 });
    });

    it('uses TCP while TRANSPORT is unset', () => {
      for (const target of shippedServicesOf({})) {
        expect(target.transportSettings.transport).toBe('tcp');
      }
    });

    it('applies TRANSPORT and the broker settings to every service', () => {
      const targets = shippedServicesOf({
        TRANSPORT: 'nats',
        NATS_URL: 'nats://127.0.0.1:4333',
      });

      for (const target of targets) {
        expect(target.transportSettings).toMatchObject({
          transport: 'nats',
          natsUrl: 'nats://127.0.0.1:4333',
        });
      }
    });

    it('keeps the controllers of each service', () => {
      expect(shippedServicesOf({}).map((target) => target.controllers)).toEqual(
        SHIPPED.map((service) => service.controllers),
      );
    });

    it('rejects an invalid port variable', () => {
      expect(() => shippedServicesOf({ INVENTORY_PORT: '70000' })).toThrow(
        'INVENTORY_PORT must be an integer from 1 to 65535, got "70000".',
      );
    });
  });

  describe('with a service of its own transport', () => {
    it('uses that transport while TRANSPORT is unset', () => {
      const [target] = servicesOf({}, [profiles]);

      expect(target.transportSettings.transport).toBe('nats');
    });

    it('lets TRANSPORT override it', () => {
      const [target] = servicesOf({ TRANSPORT: 'tcp' }, [profiles]);

      expect(target.transportSettings.transport).toBe('tcp');
    });

    it('reads the variables of a kebab-case name', () => {
      const [target] = servicesOf(
        { USER_PROFILES_HOST: 'profiles.internal', USER_PROFILES_PORT: '4010' },
        [profiles],
      );

      expect(target).toMatchObject({ host: 'profiles.internal', port: 4010 });
    });
  });
});
