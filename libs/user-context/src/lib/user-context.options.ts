import { ClaimsMapper } from './claims/claims-mapper';
import { ContextEnvelopeCodecOptions } from './envelope/context-envelope.codec';

/**
 * Settings for verifying bearer tokens at the gateway. Set exactly one of
 * `secret`, `publicKey`, `jwksUri` and `oidcIssuer`.
 */
export interface JwtVerificationOptions {
  /** HS256 shared secret. Tokens signed with any other algorithm are rejected. */
  secret?: string;
  /**
   * PEM public key (RSA, P-256 or Ed25519). Only the algorithms of its type
   * are accepted: RS256 and PS256, ES256, or EdDSA.
   */
  publicKey?: string;
  /** URL of an identity provider's JSON Web Key Set; keys are chosen by `kid`. */
  jwksUri?: string;
  /**
   * Issuer whose OpenID Connect discovery document names the key set. Also
   * the required `iss` claim, unless `issuer` is set.
   */
  oidcIssuer?: string;
  /** JWKS: seconds fetched keys are used before they are fetched again. Default 600. */
  keyCacheSeconds?: number;
  /** JWKS: minimum seconds between fetches, on an unknown `kid` or after a failure. Default 30. */
  keyRefreshCooldownSeconds?: number;
  /** JWKS: milliseconds a fetch of the keys or the discovery document may take. Default 5000. */
  keyFetchTimeoutMs?: number;
  /** Required `iss` claim, when set. */
  issuer?: string;
  /** Required `aud` claim, when set. */
  audience?: string;
  /** Clock skew tolerated on `exp` and `nbf`, in seconds. Default 30. */
  clockToleranceSeconds?: number;
  /** Tokens longer than this many characters are rejected unverified. Default 8192. */
  maxTokenLength?: number;
  /**
   * Number of verified tokens remembered until they expire, so that a client
   * reusing its token is not verified again on every request. Default
   * 10,000; 0 turns the cache off.
   */
  cacheSize?: number;
}

/**
 * Options of `UserContextModule.forRoot`.
 *
 * @example
 * UserContextModule.forRoot({
 *   role: 'service',
 *   serviceName: 'orders',
 *   envelope: { keys: [{ id: 'k1', secret: process.env.USER_CONTEXT_SECRET }] },
 * })
 */
export interface UserContextModuleOptions {
  /**
   * `gateway` verifies bearer tokens on HTTP routes and signs envelopes;
   * `service` trusts only verified envelopes on incoming messages.
   */
  role: 'gateway' | 'service';
  /** Name of this application, written to every audit line. */
  serviceName: string;
  /** Keys and lifetime of the signed user-context envelope. */
  envelope: ContextEnvelopeCodecOptions;
  /** Bearer token verification; required for the `gateway` role. */
  jwt?: JwtVerificationOptions;
  /** Maps verified token claims to a `UserContext`. Default: `defaultClaimsMapper`. */
  claimsMapper?: ClaimsMapper;
  /** Receives each audit line (one JSON object). Default: a line on stdout. */
  auditSink?: (line: string) => void;
}
