/** Injection token for the options given to `UserContextModule.forRoot`. */
export const USER_CONTEXT_OPTIONS = Symbol('USER_CONTEXT_OPTIONS');

/**
 * Name of the packet field (TCP, Redis) or message header (NATS, RabbitMQ,
 * gRPC metadata) that carries the signed envelope. The gateway drops an
 * inbound HTTP header of this name, so clients can never supply one.
 */
export const USER_CONTEXT_HEADER = 'x-user-context';

/** HTTP header that carries the request id in both directions. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Metadata key set by `@Public()`. */
export const IS_PUBLIC_KEY = 'platform:isPublic';

/** Metadata key set by `@RequirePermission()`. */
export const REQUIRED_PERMISSIONS_KEY = 'platform:requiredPermissions';
