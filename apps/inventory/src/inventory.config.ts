import { DatabaseConfig, databaseFromEnv } from '@platform/persistence';
import {
  addressFromEnv,
  ContextEnvelopeCodecOptions,
  envelopeOptionsFromEnv,
  TransportSettings,
  transportFromEnv,
} from '@platform/user-context';

export interface InventoryConfig {
  /** Transport and broker, shared by the service and its client. */
  transport: TransportSettings;
  /** Address the service listens on with TCP or gRPC. */
  address: { host: string; port: number };
  /** Address of orders on TCP or gRPC. */
  orders: { host: string; port: number };
  envelope: ContextEnvelopeCodecOptions;
  database: DatabaseConfig;
}

/** Reads the inventory service's settings from the environment and creates `DATA_DIR`. */
export function loadInventoryConfig(
  env: NodeJS.ProcessEnv = process.env,
): InventoryConfig {
  return {
    transport: transportFromEnv(env),
    address: addressFromEnv('INVENTORY', 3002, env),
    orders: addressFromEnv('ORDERS', 3001, env),
    envelope: envelopeOptionsFromEnv(env),
    database: databaseFromEnv(env, 'inventory.sqlite'),
  };
}
