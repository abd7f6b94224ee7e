import {
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import * as jose from 'jose';
import { createSecretKey, KeyObject } from 'node:crypto';

import {
  ClaimsMapper,
  InvalidClaimsError,
  JwtClaims,
} from '../claims/claims-mapper';
import { UserContext } from '../user-context.interface';
import { JwtVerificationOptions } from '../user-context.options';
import {
  algorithmsForKey,
  ASYMMETRIC_ALGORITHMS,
  IdentityProviderUnavailableError,
  publicKeyFromPem,
  RemoteKeySet,
} from './identity-provider-keys';

const MIN_SECRET_BYTES = 32;

/** Names of the errors that `jsonwebtoken` raises, mapped to client-facing reasons. */
const JWT_FAILURES: Record<string, string> = {
  TokenExpiredError: 'Token has expired.',
  NotBeforeError: 'Token is not valid yet.',
};

/** Key and algorithms that check a token's signature. */
interface PublicKeyVerification {
  key: KeyObject | jose.JWTVerifyGetKey;
  algorithms: string[];
  /** Returns how long a token verified now may be served from the cache, for keys that can be withdrawn. */
  maxCacheMs: () => number;
}

/**
 * Verifies bearer tokens and maps their claims to a `UserContext`, with one
 * of three kinds of key:
 *
 * - `secret`: HS256 with a shared secret, through `@nestjs/jwt`;
 * - `publicKey`: a PEM public key, with the algorithms its type allows
 *   (RSA: RS256 and PS256; P-256: ES256; Ed25519: EdDSA);
 * - `jwksUri` or `oidcIssuer`: an identity provider's JWKS, keys chosen by
 *   `kid`, any of RS256, PS256, ES256 and EdDSA.
 *
 * Every failure is an `UnauthorizedException` whose message never contains
 * the token, except an identity provider that cannot be reached while no
 * known key fits the token: that is a `ServiceUnavailableException` (503).
 */
export class JwtVerifier {
  private readonly jwt?: JwtService;
  private readonly publicKey?: PublicKeyVerification;
  private readonly issuer?: string;
  private readonly audience?: string;
  private readonly maxTokenLength: number;
  private readonly toleranceSeconds: number;
  private readonly cacheSize: number;
  /** Verified tokens, oldest first, each with the times between which it stays valid. */
  private readonly cache = new Map<string, CachedToken>();

  constructor(
    options: JwtVerificationOptions,
    private readonly mapClaims: ClaimsMapper,
  ) {
    this.maxTokenLength = options.maxTokenLength ?? 8192;
    this.toleranceSeconds = options.clockToleranceSeconds ?? 30;
    this.cacheSize = options.cacheSize ?? 10_000;
    if (!Number.isInteger(this.cacheSize) || this.cacheSize < 0) {
      throw new Error(
        `cacheSize must be an integer of 0 or more, got ${this.cacheSize}.`,
      );
    }
    const kinds = [
      options.secret,
      options.publicKey,
      options.jwksUri,
      options.oidcIssuer,
    ];
    if (kinds.filter((kind) => kind !== undefined).length !== 1) {
      throw new Error(
        'Give the token verifier exactly one key: secret (JWT_SECRET), publicKey (JWT_PUBLIC_KEY), jwksUri (JWKS_URI) or oidcIssuer (OIDC_ISSUER).',
      );
    }
    // An OpenID Connect issuer signs tokens with its own name in `iss`.
    this.issuer = options.issuer ?? options.oidcIssuer;
    this.audience = options.audience;

    if (options.secret !== undefined) {
      this.jwt = createHs256Service(
        options.secret,
        this.issuer,
        this.audience,
        this.toleranceSeconds,
      );
    } else if (options.publicKey !== undefined) {
      const key = publicKeyFromPem(options.publicKey);
      this.publicKey = {
        key,
        algorithms: algorithmsForKey(key),
        maxCacheMs: () => Infinity,
      };
    } else {
      // A provider's key set may serve many apps or tenants: without these
      // checks, a token it issued to any of them would pass here.
      if (!this.audience) {
        throw new Error(
          'JWT_AUDIENCE is required with JWKS_URI or OIDC_ISSUER: without it, a token the provider issued for any other app would pass.',
        );
      }
      if (!this.issuer) {
        throw new Error(
          'JWT_ISSUER is required with JWKS_URI: tokens of any issuer that uses these keys would pass.',
        );
      }
      const keySet = new RemoteKeySet(
        {
          jwksUri: options.jwksUri,
          oidcIssuer: options.oidcIssuer,
          cacheSeconds: options.keyCacheSeconds,
          cooldownSeconds: options.keyRefreshCooldownSeconds,
          timeoutMs: options.keyFetchTimeoutMs,
        },
        jose,
      );
      this.publicKey = {
        key: keySet.getKey,
        algorithms: ASYMMETRIC_ALGORITHMS,
        // Until the keys in use are due to be fetched again, so that a key
        // the provider withdraws stops working within JWKS_CACHE_SECONDS.
        maxCacheMs: () =>
          keySet.fetchedAt + keySet.cacheDurationMs - Date.now(),
      };
    }
  }

  /**
   * Verifies a token and returns its user, frozen. A token verified before
   * is served from the cache until its `exp` (plus the clock tolerance) has
   * passed, because nothing else about its validity can change.
   */
  verify(token: string): UserContext | Promise<UserContext> {
    if (token.length > this.maxTokenLength) {
      throw new UnauthorizedException(
        `Token is longer than ${this.maxTokenLength} characters.`,
      );
    }
    const cached = this.cache.get(token);
    if (cached) {
      const now = Date.now();
      if (now < cached.expiresAt && now >= cached.notBefore) {
        return cached.user;
      }
      this.cache.delete(token);
    }

    if (this.publicKey) {
      return this.verifyWithPublicKey(token, this.publicKey);
    }
    const claims = this.verifyHs256(token, this.jwt as JwtService);
    return this.accept(token, claims, Infinity);
  }

  private verifyHs256(token: string, jwt: JwtService): JwtClaims {
    let claims: JwtClaims;
    try {
      claims = jwt.verify<JwtClaims>(token);
    } catch (error) {
      throw new UnauthorizedException(describeJwtFailure(error));
    }
    if (typeof claims.exp !== 'number') {
      throw new UnauthorizedException(
        'Token has no expiry: the "exp" claim is required.',
      );
    }
    return claims;
  }

  private async verifyWithPublicKey(
    token: string,
    { key, algorithms, maxCacheMs }: PublicKeyVerification,
  ): Promise<UserContext> {
    let claims: JwtClaims;
    try {
      const options: jose.JWTVerifyOptions = {
        algorithms,
        issuer: this.issuer,
        audience: this.audience,
        clockTolerance: this.toleranceSeconds,
        requiredClaims: ['exp'],
      };
      const { payload } =
        key instanceof KeyObject
          ? await jose.jwtVerify(token, key, options)
          : await jose.jwtVerify(token, key, options);
      claims = payload as JwtClaims;
    } catch (error) {
      throw describeJoseFailure(error);
    }
    return this.accept(token, claims, maxCacheMs());
  }

  private accept(
    token: string,
    claims: JwtClaims,
    maxCacheMs: number,
  ): UserContext {
    const user = this.toUser(claims);
    this.remember(token, user, claims, maxCacheMs);
    return user;
  }

  private toUser(claims: JwtClaims): UserContext {
    let user: UserContext;
    try {
      user = this.mapClaims(claims);
    } catch (error) {
      if (error instanceof InvalidClaimsError) {
        throw new UnauthorizedException(error.message);
      }
      throw error;
    }
    // Frozen, because one cached object is shared by every request that
    // presents the same token.
    Object.freeze(user.roles);
    Object.freeze(user.permissions);
    return Object.freeze(user);
  }

  private remember(
    token: string,
    user: UserContext,
    claims: JwtClaims,
    maxCacheMs: number,
  ): void {
    if (this.cacheSize === 0) {
      return;
    }
    if (this.cache.size >= this.cacheSize) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
    // The same bounds as jsonwebtoken 9 applies: exp and nbf, each widened
    // by the clock tolerance.
    const tolerance = this.toleranceSeconds;
    this.cache.set(token, {
      user,
      expiresAt: Math.min(
        ((claims.exp as number) + tolerance) * 1000,
        Date.now() + maxCacheMs,
      ),
      notBefore:
        typeof claims.nbf === 'number'
          ? (claims.nbf - tolerance) * 1000
          : -Infinity,
    });
  }
}

interface CachedToken {
  user: UserContext;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  notBefore: number;
}

/**
 * Messages of `jsonwebtoken` 9 that are rewritten: the issuer and audience
 * ones name the expected value, which clients need not learn.
 */
const REWRITTEN_MESSAGES: Array<[RegExp, string]> = [
  [/^jwt issuer invalid/, 'Invalid token: issuer is not accepted.'],
  [/^jwt audience invalid/, 'Invalid token: audience is not accepted.'],
  [/^invalid token$/, 'Invalid token: not a well-formed JWT.'],
];

function describeJwtFailure(error: unknown): string {
  if (!(error instanceof Error)) {
    return 'Invalid token.';
  }
  const byName = JWT_FAILURES[error.name];
  if (byName) {
    return byName;
  }
  const rewritten = REWRITTEN_MESSAGES.find(([pattern]) =>
    pattern.test(error.message),
  );
  return rewritten ? rewritten[1] : `Invalid token: ${error.message}.`;
}

/** Builds the HS256 verifier, rejecting secrets shorter than the hash output. */
function createHs256Service(
  secret: string,
  issuer: string | undefined,
  audience: string | undefined,
  clockTolerance: number,
): JwtService {
  // RFC 7518, section 3.2: an HS256 key must be at least as long as the
  // hash output, 256 bits.
  const secretBytes = Buffer.byteLength(secret);
  if (secretBytes < MIN_SECRET_BYTES) {
    throw new Error(
      `The JWT secret is ${secretBytes} bytes long; HS256 needs at least ${MIN_SECRET_BYTES}. Set JWT_SECRET to a longer random value.`,
    );
  }
  // A KeyObject instead of a string secret: given a string, jsonwebtoken 9
  // first tries to parse it as a PEM public key on every call. On the
  // 2-core benchmark machine that meant 2,500 verifications/s against 122,000.
  const key = createSecretKey(Buffer.from(secret));
  return new JwtService({
    secret: key as unknown as Buffer,
    verifyOptions: { algorithms: ['HS256'], issuer, audience, clockTolerance },
  });
}

/** Messages for `jose`'s claim failures, by claim name. */
const CLAIM_FAILURES: Record<string, string> = {
  nbf: 'Token is not valid yet.',
  iss: 'Invalid token: issuer is not accepted.',
  aud: 'Invalid token: audience is not accepted.',
  exp: 'Token has no expiry: the "exp" claim is required.',
};

/** Turns a `jose` failure into the exception the client gets; never echoes the token. */
function describeJoseFailure(error: unknown): Error {
  if (error instanceof IdentityProviderUnavailableError) {
    return new ServiceUnavailableException(
      'The identity provider cannot be reached to check this token. Try again shortly.',
    );
  }
  if (error instanceof jose.errors.JWTExpired) {
    return new UnauthorizedException('Token has expired.');
  }
  if (error instanceof jose.errors.JWTClaimValidationFailed) {
    return new UnauthorizedException(
      CLAIM_FAILURES[error.claim] ??
        `Invalid token: claim "${error.claim}" is invalid.`,
    );
  }
  if (
    error instanceof jose.errors.JOSEAlgNotAllowed ||
    error instanceof jose.errors.JOSENotSupported
  ) {
    return new UnauthorizedException(
      'Invalid token: its algorithm is not accepted.',
    );
  }
  if (error instanceof jose.errors.JWKSNoMatchingKey) {
    return new UnauthorizedException(
      'Invalid token: no key of the identity provider matches it.',
    );
  }
  if (error instanceof jose.errors.JWSSignatureVerificationFailed) {
    return new UnauthorizedException('Invalid token: invalid signature.');
  }
  if (
    error instanceof jose.errors.JWSInvalid ||
    error instanceof jose.errors.JWTInvalid
  ) {
    return new UnauthorizedException('Invalid token: not a well-formed JWT.');
  }
  return new UnauthorizedException('Invalid token.');
}
