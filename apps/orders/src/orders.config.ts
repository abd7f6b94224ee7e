import { DatabaseConfig, databaseFromEnv } from '@platform/persistence';
import {
  addressFromEnv,
  ContextEnvelopeCodecOptions,
  envelopeOptionsFromEnv,
  TransportSettings,
  transportFromEnv,
} from '@platform/user-context';

export interface OrdersConfig {
  /** Transport and broker, shared by the service and its client. */
  transport: TransportSettings;
  /** Address the service listens on with TCP or gRPC. */
  address: { host: string; port: number };
  /** Address of inventory on TCP or gRPC. */
  inventory: { host: string; port: number };
  envelope: ContextEnvelopeCodecOptions;
  database: DatabaseConfig;
}

/** Reads the orders service's settings from the environment and creates `DATA_DIR`. */
export function loadOrdersConfig(
  env: NodeJS.ProcessEnv = process.env,
): OrdersConfig {
  return {
    transport: transportFromEnv(env),
    address: addressFromEnv('ORDERS', 3001, env),
    inventory: addressFromEnv('INVENTORY', 3002, env),
    envelope: envelopeOptionsFromEnv(env),
    database: databaseFromEnv(env, 'orders.sqlite'),
  };
}
