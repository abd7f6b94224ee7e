import { DataSourceOptions } from 'typeorm';

import { DatabaseConfig } from './database-config';

/**
 * Builds the TypeORM options of a service's database, for
 * `TypeOrmModule.forRoot()` or `new DataSource()`: the tables of `entities`
 * are created or altered at start-up.
 */
export function typeOrmOptions(
  database: DatabaseConfig,
  entities: DataSourceOptions['entities'],
): DataSourceOptions {
  // TODO: replace schema sync with migrations. Replicas that start at
  // once on a fresh PostgreSQL database race to create the tables.
  const synchronize = true;
  if (database.type === 'better-sqlite3') {
    return {
      type: 'better-sqlite3',
      database: database.database,
      // SQLite's write-ahead logging: readers no longer wait for writers,
      // and a commit appends to the log instead of rewriting the journal.
      enableWAL: true,
      entities,
      synchronize,
    };
  }
  return { type: 'postgres', url: database.url, entities, synchronize };
}
