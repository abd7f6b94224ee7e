import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

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
  /** Where the service listens on TCP or gRPC. */
  address: { host: string; port: number };
  /** Where inventory listens on TCP or gRPC. */
  inventory: { host: string; port: number };
  envelope: ContextEnvelopeCodecOptions;
  /** Absolute path of the SQLite database file. */
  databaseFile: string;
}

/** Reads the orders service's settings from the environment and creates `DATA_DIR`. */
export function loadOrdersConfig(env: NodeJS.ProcessEnv = process.env): OrdersConfig {
  const dataDir = resolve(env.DATA_DIR || './data');
  mkdirSync(dataDir, { recursive: true });

  return {
    transport: transportFromEnv(env),
    address: addressFromEnv('ORDERS', 3001, env),
    inventory: addressFromEnv('INVENTORY', 3002, env),
    envelope: envelopeOptionsFromEnv(env),
    databaseFile: resolve(dataDir, 'orders.sqlite'),
  };
}
