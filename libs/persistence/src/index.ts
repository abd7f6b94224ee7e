export * from './lib/database-config';
export * from './lib/typeorm-options';
