import {
  defaultClaimsMapper,
  JwtVerifier,
  UserContext,
} from '@platform/user-context';

/** A token check with an HS256 secret, which returns without a promise. */
export interface ForwardingVerifier {
  verify(token: string): UserContext;
}

/**
 * Creates the token check of the anti-pattern, used at the gateway and again
 * in the service. No verified-token cache: the anti-pattern as usually built, with
 * passport-jwt or JwtService, verifies every request.
 */
export function createForwardingVerifier(): ForwardingVerifier {
  const verifier = new JwtVerifier(
    { secret: process.env.JWT_SECRET as string, cacheSize: 0 },
    defaultClaimsMapper,
  );
  return {
    verify(token) {
      const user = verifier.verify(token);
      if (user instanceof Promise) {
        throw new Error('An HS256 JwtVerifier returned a promise.');
      }
      return user;
    },
  };
}
