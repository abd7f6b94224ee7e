import {
  MiddlewareConsumer,
  Module,
  NestModule,
  Optional,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, HttpAdapterHost } from '@nestjs/core';

import { AuditService } from './audit/audit.service';
import { defaultClaimsMapper } from './claims/claims-mapper';
import { ContextEnvelopeCodec } from './envelope/context-envelope.codec';
import { UserContextExceptionFilter } from './errors/rpc-exception.filter';
import { AuthenticationGuard } from './guards/authentication.guard';
import { JwtVerifier } from './guards/jwt-verifier';
import { PermissionGuard } from './guards/permission.guard';
import {
  isFastify,
  registerRequestScopeHook,
  RequestContextMiddleware,
} from './http/request-context.middleware';
import { USER_CONTEXT_OPTIONS } from './user-context.constants';
import { ConfigurableUserContextModule } from './user-context.module-definition';
import { UserContextModuleOptions } from './user-context.options';
import { UserContextService } from './user-context.service';

/**
 * Verifies identity once and makes it available everywhere.
 *
 * Import it once in the root module, with `role: 'gateway'` in the HTTP app
 * and `role: 'service'` in each microservice. It registers, app-wide: the
 * `AuthenticationGuard`, then the `PermissionGuard`, and a filter that gives
 * RPC errors Nest's HTTP error shape. It is global by default
 * (`isGlobal: false` turns that off).
 *
 * @example
 * UserContextModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({
 *     role: 'gateway',
 *     serviceName: 'gateway',
 *     jwt: { secret: config.getOrThrow('JWT_SECRET') },
 *     envelope: { keys: [{ id: 'k1', secret: config.getOrThrow('USER_CONTEXT_SECRET') }] },
 *   }),
 * })
 */
/** Characters kept free below the envelope size limit by the gateway. */
const GATEWAY_ENVELOPE_HEADROOM = 256;

@Module({
  providers: [
    {
      provide: ContextEnvelopeCodec,
      inject: [USER_CONTEXT_OPTIONS],
      // A service accepts only envelopes signed for it, by its serviceName.
      useFactory: (options: UserContextModuleOptions) =>
        new ContextEnvelopeCodec({
          ...options.envelope,
          audience:
            options.role === 'service' ? options.serviceName : undefined,
          // Room for the services' re-signed envelopes (a longer audience
          // name, up to 256 characters more), so that a context the gateway
          // accepts does not fail as too large at the next hop.
          ...(options.role === 'gateway'
            ? {
                maxSignedLength:
                  (options.envelope.maxLength ?? 8192) -
                  GATEWAY_ENVELOPE_HEADROOM,
              }
            : {}),
        }),
    },
    {
      provide: JwtVerifier,
      inject: [USER_CONTEXT_OPTIONS],
      useFactory: (options: UserContextModuleOptions) =>
        createJwtVerifier(options),
    },
    UserContextService,
    AuditService,
    { provide: APP_GUARD, useClass: AuthenticationGuard },
    { provide: APP_GUARD, useClass: PermissionGuard },
    { provide: APP_FILTER, useClass: UserContextExceptionFilter },
  ],
  exports: [ContextEnvelopeCodec, UserContextService, AuditService],
})
export class UserContextModule
  extends ConfigurableUserContextModule
  implements NestModule
{
  constructor(@Optional() private readonly adapterHost?: HttpAdapterHost) {
    super();
  }

  /** Opens a request scope per HTTP request: a Fastify hook, or middleware on Express. */
  configure(consumer: MiddlewareConsumer): void {
    const instance = this.adapterHost?.httpAdapter?.getInstance();
    if (isFastify(instance)) {
      registerRequestScopeHook(instance);
      return;
    }
    consumer.apply(RequestContextMiddleware).forRoutes('{*path}');
  }
}

function createJwtVerifier(
  options: UserContextModuleOptions,
): JwtVerifier | null {
  if (options.role !== 'gateway') {
    return null;
  }
  if (!options.jwt) {
    throw new Error(
      'UserContextModule with role "gateway" needs the "jwt" option.',
    );
  }
  return new JwtVerifier(
    options.jwt,
    options.claimsMapper ?? defaultClaimsMapper,
  );
}
