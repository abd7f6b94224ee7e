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
  /** Address the service listens on with TCP or gRPC. */
  address: { host: string; port: number };
  /** Address of inventory on TCP or gRPC. */
  inventory: { host: string; port: number };
  envelope: ContextEnvelopeCodecOptions;
  database: DatabaseConfig;
}

/**
 * The service's database: a SQLite file under `DATA_DIR` by default, or the
 * PostgreSQL database of `DATABASE_URL`, which replicas of the service share.
 */
export type DatabaseConfig =
  | { type: 'better-sqlite3'; database: string }
  | { type: 'postgres'; url: string };

/** Reads the orders service's settings from the environment and creates `DATA_DIR`. */
export function loadOrdersConfig(
  env: NodeJS.ProcessEnv = process.env,
): OrdersConfig {
  return {
    transport: transportFromEnv(env),
    address: addressFromEnv('ORDERS', 3001, env),
    inventory: addressFromEnv('INVENTORY', 3002, env),
    envelope: envelopeOptionsFromEnv(env),
    database: databaseFromEnv(env),
  };
}

function databaseFromEnv(env: NodeJS.ProcessEnv): DatabaseConfig {
  const url = env.DATABASE_URL;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new Error(
        'DATABASE_URL must be a postgres:// URL; leave it unset to use SQLite.',
      );
    }
    return { type: 'postgres', url };
  }
  const dataDir = resolve(env.DATA_DIR || './data');
  mkdirSync(dataDir, { recursive: true });
  return {
    type: 'better-sqlite3',
    database: resolve(dataDir, 'orders.sqlite'),
  };
}
