import { defaultClaimsMapper, JwtVerifier } from '@platform/user-context';

/**
 * Creates the token check of the anti-pattern, used at the gateway and again
 * in the service. No verified-token cache: the anti-pattern as usually built, with
 * passport-jwt or JwtService, verifies every request.
 */
export function createForwardingVerifier(): JwtVerifier {
  return new JwtVerifier({ secret: process.env.JWT_SECRET as string, cacheSize: 0 }, defaultClaimsMapper);
}
