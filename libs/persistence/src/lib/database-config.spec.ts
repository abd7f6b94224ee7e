import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { databaseFromEnv } from './database-config';

describe('databaseFromEnv', () => {
  let folder: string;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'persistence-config-'));
  });

  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('places the SQLite file under DATA_DIR', () => {
    const dataDir = join(folder, 'data');

    const database = databaseFromEnv({ DATA_DIR: dataDir }, 'orders.sqlite');

    expect(database).toEqual({
      type: 'better-sqlite3',
      database: join(dataDir, 'orders.sqlite'),
    });
  });

  it('creates a missing DATA_DIR with its parents', () => {
    const dataDir = join(folder, 'a', 'b');

    databaseFromEnv({ DATA_DIR: dataDir }, 'orders.sqlite');

    expect(existsSync(dataDir)).toBe(true);
  });

  it('resolves a relative DATA_DIR from the working folder', () => {
    const cwd = process.cwd();
    process.chdir(folder);
    try {
      const database = databaseFromEnv({}, 'items.sqlite');

      expect(database).toEqual({
        type: 'better-sqlite3',
        database: join(process.cwd(), 'data', 'items.sqlite'),
      });
    } finally {
      process.chdir(cwd);
    }
  });

  it.each([
    'postgres://postgres@127.0.0.1:5432/orders',
    'postgresql://user:secret@db.internal/orders',
  ])('takes the PostgreSQL URL %s', (url) => {
    expect(databaseFromEnv({ DATABASE_URL: url }, 'orders.sqlite')).toEqual({
      type: 'postgres',
      url,
    });
  });

  it('rejects a DATABASE_URL of another database', () => {
    expect(() =>
      databaseFromEnv(
        { DATABASE_URL: 'mysql://127.0.0.1/orders' },
        'orders.sqlite',
      ),
    ).toThrow(
      'DATABASE_URL must be a postgres:// URL; leave it unset to use SQLite.',
    );
  });
});
