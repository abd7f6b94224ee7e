import { Inject } from '@nestjs/common';

/**
 * Returns the prefix of a service's environment variables and tokens:
 * `orders` reads `ORDERS_HOST` and `ORDERS_PORT`, `user-profiles` reads
 * `USER_PROFILES_HOST` and `USER_PROFILES_PORT`.
 */
export function envPrefix(service: string): string {
  return service.toUpperCase().replace(/-/g, '_');
}

/** Injection token of the `ClientProxy` that calls `service`, such as `ORDERS_CLIENT`. */
export function clientToken(service: string): string {
  return `${envPrefix(service)}_CLIENT`;
}

/** Injection token of the `ServiceClient` that calls `service`, such as `ORDERS_SERVICE`. */
export function serviceClientToken(service: string): string {
  return `${envPrefix(service)}_SERVICE`;
}

/**
 * Injects the `ServiceClient` of a service listed in `DOWNSTREAM_SERVICES`,
 * which maps the service's failures to HTTP errors.
 *
 * @example
 * constructor(@InjectService('orders') private readonly orders: ServiceClient) {}
 */
export const InjectService = (service: string) =>
  Inject(serviceClientToken(service));
