/**
 * Returns the prefix of the service's environment variables and constants,
 * `PAYMENTS_2` for `payments-2`: the same rule as `envPrefix()` in
 * apps/gateway/src/inject-service.decorator.ts, so that the service and the
 * gateway read the same `<NAME>_PORT`. `names().constantName` differs from
 * it when a digit follows a dash (`PAYMENTS2`).
 */
export function envPrefixOf(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}
