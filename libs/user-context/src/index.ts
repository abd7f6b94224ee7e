export * from './lib/audit/audit.service';
export * from './lib/claims/claims-mapper';
export * from './lib/config/env';
export * from './lib/context/request-scope';
export * from './lib/decorators/current-user.decorator';
export * from './lib/decorators/public.decorator';
export * from './lib/decorators/require-permission.decorator';
export * from './lib/envelope/context-envelope.codec';
export * from './lib/envelope/context-envelope.error';
export * from './lib/errors/rpc-error';
export * from './lib/errors/rpc-exception.filter';
export * from './lib/errors/service-client';
export * from './lib/guards/authentication.guard';
export * from './lib/guards/jwt-verifier';
export * from './lib/guards/permission.guard';
export * from './lib/logging/context-logger';
export * from './lib/transport/context-client';
export * from './lib/transport/context-grpc';
export * from './lib/transport/context-nats';
export * from './lib/transport/context-redis';
export * from './lib/transport/context-rmq';
export * from './lib/transport/context-tcp.client';
export * from './lib/transport/context-tcp.server';
export * from './lib/transport/create-microservice';
export * from './lib/transport/propagation';
export * from './lib/transport/envelope-gate';
export * from './lib/transport/register-context-clients';
export * from './lib/transport/transport-settings';
export {
  IS_PUBLIC_KEY,
  REQUEST_ID_HEADER,
  REQUIRED_PERMISSIONS_KEY,
  USER_CONTEXT_HEADER,
  USER_CONTEXT_OPTIONS,
} from './lib/user-context.constants';
export * from './lib/user-context.interface';
export * from './lib/user-context.module';
export * from './lib/user-context.options';
export * from './lib/user-context.service';
