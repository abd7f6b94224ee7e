import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * A service's database: a SQLite file under `DATA_DIR` by default, or the
 * PostgreSQL database of `DATABASE_URL`, which replicas of the service share.
 */
export type DatabaseConfig =
  | { type: 'better-sqlite3'; database: string }
  | { type: 'postgres'; url: string };

/**
 * Reads the database of a service from `DATABASE_URL`, or else places the
 * SQLite file `fileName` under `DATA_DIR` (default `./data`) and creates
 * that folder. Throws when `DATABASE_URL` is not a postgres:// URL.
 */
export function databaseFromEnv(
  env: NodeJS.ProcessEnv,
  fileName: string,
): DatabaseConfig {
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
    database: resolve(dataDir, fileName),
  };
}
