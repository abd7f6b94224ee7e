import { ClientsModule, Transport } from '@nestjs/microservices';

/** The body every stock scenario returns, so that all of them send the same bytes. */
export function stockFixture(sku: string) {
  return { sku, name: 'Mechanical keyboard', available: 50, reserved: 0 };
}

/** The body of `GET /me` for the benchmark user. */
export const ME_FIXTURE = {
  userId: 'bench-user',
  email: 'bench@example.com',
  roles: [],
  permissions: ['orders:create', 'orders:read', 'inventory:read'],
};

export function portFromEnv(name: string): number {
  const port = Number(process.env[name]);
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error(
      `${name} must be set to a port number, got "${process.env[name]}".`,
    );
  }
  return port;
}

/** Registers a plain Nest TCP client to the service on `SERVICE_PORT`, for the yardstick gateways. */
export function registerServiceClient(name: string) {
  return ClientsModule.register([
    {
      name,
      transport: Transport.TCP,
      options: {
        host: '127.0.0.1',
        port: Number(process.env.SERVICE_PORT) || 1,
      },
    },
  ]);
}
