export * from './lib/dto';
export * from './lib/grpc';
export * from './lib/models';
export * from './lib/patterns';
export * from './lib/validation';
