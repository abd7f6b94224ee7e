import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, DataSourceOptions, EntitySchema } from 'typeorm';

import { databaseFromEnv } from './database-config';
import { typeOrmOptions } from './typeorm-options';

/** PostgreSQL server of the end-to-end suites, on loopback. */
const POSTGRES_URL =
  process.env.E2E_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432';

interface Note {
  id: number;
  text: string;
}

/** Creates an entity with a table of its own, so that runs never share rows. */
function noteSchema(): EntitySchema<Note> {
  return new EntitySchema<Note>({
    name: `persistence_spec_${randomBytes(6).toString('hex')}`,
    columns: {
      id: { type: Number, primary: true, generated: true },
      text: { type: String },
    },
  });
}

/** Saves a note with one connection and reads every note back with a new one. */
async function saveAndReload(
  options: DataSourceOptions,
  schema: EntitySchema<Note>,
  text: string,
): Promise<Note[]> {
  const writer = await new DataSource(options).initialize();
  await writer.getRepository(schema).save({ text });
  await writer.destroy();

  const reader = await new DataSource(options).initialize();
  try {
    return await reader.getRepository(schema).find();
  } finally {
    await reader.destroy();
  }
}

describe('typeOrmOptions', () => {
  it('builds SQLite options with WAL and schema sync', () => {
    const schema = noteSchema();

    const options = typeOrmOptions(
      { type: 'better-sqlite3', database: '/data/notes.sqlite' },
      [schema],
    );

    expect(options).toEqual({
      type: 'better-sqlite3',
      database: '/data/notes.sqlite',
      enableWAL: true,
      entities: [schema],
      synchronize: true,
    });
  });

  it('builds PostgreSQL options from the URL', () => {
    const schema = noteSchema();

    const options = typeOrmOptions(
      { type: 'postgres', url: 'postgres://127.0.0.1/notes' },
      [schema],
    );

    expect(options).toEqual({
      type: 'postgres',
      url: 'postgres://127.0.0.1/notes',
      entities: [schema],
      synchronize: true,
    });
  });

  describe('on a SQLite file', () => {
    let dataDir: string;

    beforeEach(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'persistence-sqlite-'));
    });

    afterEach(() => {
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('keeps rows across connections', async () => {
      const schema = noteSchema();
      const options = typeOrmOptions(
        databaseFromEnv({ DATA_DIR: dataDir }, 'notes.sqlite'),
        [schema],
      );

      const notes = await saveAndReload(options, schema, 'kept');

      expect(existsSync(join(dataDir, 'notes.sqlite'))).toBe(true);
      expect(notes).toEqual([{ id: 1, text: 'kept' }]);
    });

    it('opens the file in WAL mode', async () => {
      const options = typeOrmOptions(
        databaseFromEnv({ DATA_DIR: dataDir }, 'notes.sqlite'),
        [noteSchema()],
      );

      const dataSource = await new DataSource(options).initialize();
      const [mode] = await dataSource.query('PRAGMA journal_mode');
      await dataSource.destroy();

      expect(mode).toEqual({ journal_mode: 'wal' });
    });
  });

  describe('on PostgreSQL', () => {
    const database = `persistence_spec_${randomBytes(6).toString('hex')}`;

    /** Runs one statement against the server's maintenance database. */
    async function admin(statement: string): Promise<void> {
      const maintenance = await new DataSource({
        type: 'postgres',
        url: `${POSTGRES_URL}/postgres`,
      }).initialize();
      try {
        await maintenance.query(statement);
      } finally {
        await maintenance.destroy();
      }
    }

    beforeAll(() => admin(`CREATE DATABASE ${database}`));

    afterAll(() => admin(`DROP DATABASE IF EXISTS ${database}`));

    it('creates the table and keeps rows', async () => {
      const schema = noteSchema();
      const options = typeOrmOptions(
        databaseFromEnv(
          { DATABASE_URL: `${POSTGRES_URL}/${database}` },
          'notes.sqlite',
        ),
        [schema],
      );

      const notes = await saveAndReload(options, schema, 'shared');

      expect(notes).toEqual([{ id: 1, text: 'shared' }]);
    });
  });
});
