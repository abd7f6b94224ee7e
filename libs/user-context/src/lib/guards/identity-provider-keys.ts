import { Logger } from '@nestjs/common';
import { createPublicKey, KeyObject } from 'node:crypto';

import type { JWTVerifyGetKey, JSONWebKeySet } from 'jose';

/** Algorithms accepted from an identity provider's key set: never `none`, never an HMAC. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/**
 * Raised when the identity provider's keys cannot be fetched and no key
 * fetched before matches the token. The gateway returns 503, not 401: the
 * token may be fine, and the client should try again rather than log in.
 */
export class IdentityProviderUnavailableError extends Error {
  constructor(reason: string) {
    super(`The identity provider's keys could not be fetched: ${reason}`);
    this.name = 'IdentityProviderUnavailableError';
  }
}

/** Returns the algorithms a static public key may verify, pinned by its type. */
export function algorithmsForKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      // jose, which verifies these, refuses RSA keys under 2048 bits.
      if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
        throw new Error(
          'JWT_PUBLIC_KEY is an RSA key under 2048 bits; use 2048 or more.',
        );
      }
      return key.asymmetricKeyType === 'rsa' ? ['RS256', 'PS256'] : ['PS256'];
    case 'ec':
      if (key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
        return ['ES256'];
      }
      break;
    case 'ed25519':
      return ['EdDSA'];
  }
  throw new Error(
    `JWT_PUBLIC_KEY must be an RSA, P-256 or Ed25519 public key, got ${key.asymmetricKeyType ?? 'a secret key'}.`,
  );
}

/** Reads a PEM public key; a private key or a certificate is rejected, as is anything else. */
export function publicKeyFromPem(pem: string): KeyObject {
  if (
    !pem.includes('-----BEGIN PUBLIC KEY-----') ||
    pem.includes('PRIVATE KEY')
  ) {
    throw new Error(
      'JWT_PUBLIC_KEY must be a PEM public key ("-----BEGIN PUBLIC KEY-----").',
    );
  }
  return createPublicKey(pem);
}

export interface RemoteKeySetOptions {
  /** URL of the JSON Web Key Set. */
  jwksUri?: string;
  /** Issuer whose `/.well-known/openid-configuration` names the key set. */
  oidcIssuer?: string;
  /** Seconds a fetched key set is used before it is fetched again. Default 600. */
  cacheSeconds?: number;
  /** Minimum seconds between two fetches caused by an unknown `kid`. Default 30. */
  cooldownSeconds?: number;
  /** Milliseconds a fetch may take. Default 5000. */
  timeoutMs?: number;
}

type Jose = typeof import('jose');

/**
 * The keys of an identity provider, fetched from its JWKS endpoint.
 *
 * - Keys are fetched on first use and again once `cacheSeconds` have passed.
 * - A token whose `kid` is unknown causes one early fetch. Fetches happen at
 *   most once per `cooldownSeconds`, so made-up `kid`s or an outage cannot
 *   flood the provider.
 * - When a fetch fails, the keys fetched before stay in use, so a provider
 *   outage does not reject tokens signed with a known key. A token that no
 *   known key fits then raises `IdentityProviderUnavailableError`.
 */
export class RemoteKeySet {
  private readonly cacheMs: number;
  private readonly cooldownMs: number;
  private readonly timeoutMs: number;
  private readonly logger = new Logger(RemoteKeySet.name);
  private keys?: JWTVerifyGetKey;
  /** When the keys in use were fetched, in milliseconds since the epoch. */
  fetchedAt = 0;
  private lastAttemptAt = 0;
  private lastFailure?: string;
  private pending?: Promise<void>;
  private jwksUri?: string;

  constructor(
    private readonly options: RemoteKeySetOptions,
    private readonly jose: Jose,
  ) {
    if (!options.jwksUri === !options.oidcIssuer) {
      throw new Error('Set exactly one of JWKS_URI and OIDC_ISSUER.');
    }
    this.cacheMs =
      positive(options.cacheSeconds ?? 600, 'keyCacheSeconds') * 1000;
    // 0 turns the flood limit off, which only tests should do.
    this.cooldownMs =
      notNegative(options.cooldownSeconds ?? 30, 'keyRefreshCooldownSeconds') *
      1000;
    this.timeoutMs = positive(options.timeoutMs ?? 5000, 'keyFetchTimeoutMs');
    this.jwksUri = options.jwksUri && checkedUrl(options.jwksUri, 'JWKS_URI');
    if (options.oidcIssuer) {
      checkedUrl(options.oidcIssuer, 'OIDC_ISSUER');
    }
  }

  /** The milliseconds for which the keys in use stay fresh. */
  get cacheDurationMs(): number {
    return this.cacheMs;
  }

  /** The key resolver that `jwtVerify` calls with each token's header. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const stale = !this.keys || Date.now() - this.fetchedAt >= this.cacheMs;
    // Stale keys are fetched again at once; only retries after a failure
    // wait for the cooldown, so a withdrawn key stops working on time.
    if (stale && (!this.lastFailure || this.mayFetch())) {
      await this.refresh();
    }
    try {
      return await this.resolve(header, token);
    } catch (error) {
      if (!(error instanceof this.jose.errors.JWKSNoMatchingKey)) {
        throw error;
      }
      // An unknown kid: the provider may have rotated its keys.
      if (this.mayFetch()) {
        await this.refresh();
      }
      try {
        return await this.resolve(header, token);
      } catch (retryError) {
        if (
          retryError instanceof this.jose.errors.JWKSNoMatchingKey &&
          this.lastFailure
        ) {
          throw new IdentityProviderUnavailableError(this.lastFailure);
        }
        throw retryError;
      }
    }
  };

  /** Allows one fetch per cooldown, so unknown `kid`s or an outage cannot flood the provider. */
  private mayFetch(): boolean {
    return (
      this.lastAttemptAt === 0 ||
      Date.now() - this.lastAttemptAt >= this.cooldownMs
    );
  }

  private async resolve(...args: Parameters<JWTVerifyGetKey>) {
    if (!this.keys) {
      throw new IdentityProviderUnavailableError(
        this.lastFailure ?? 'no keys fetched yet',
      );
    }
    return this.keys(...args);
  }

  /**
   * Fetches the key set; concurrent callers share one fetch. A failed fetch
   * keeps the keys fetched before and records why, for the 503 message.
   */
  private refresh(): Promise<void> {
    this.pending ??= this.fetchKeys()
      .then((jwks) => this.jose.createLocalJWKSet(jwks))
      .then(
        (keys) => {
          this.keys = keys;
          this.fetchedAt = Date.now();
          this.lastFailure = undefined;
        },
        (error: unknown) => {
          this.lastFailure =
            error instanceof Error ? error.message : String(error);
          this.logger.warn(
            `Could not fetch the identity provider's keys: ${this.lastFailure}`,
          );
        },
      )
      .finally(() => {
        this.lastAttemptAt = Date.now();
        this.pending = undefined;
      });
    return this.pending;
  }

  private async fetchKeys(): Promise<JSONWebKeySet> {
    const jwksUri = this.jwksUri ?? (await this.discover());
    const body = await this.fetchJson(jwksUri);
    if (!Array.isArray((body as JSONWebKeySet).keys)) {
      throw new Error(`${jwksUri} returned no "keys" array.`);
    }
    return body as JSONWebKeySet;
  }

  /** Reads `jwks_uri` from the issuer's OpenID Connect discovery document. */
  private async discover(): Promise<string> {
    const issuer = this.options.oidcIssuer as string;
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const document = (await this.fetchJson(url)) as {
      issuer?: unknown;
      jwks_uri?: unknown;
    };
    if (document.issuer !== issuer) {
      throw new Error(
        `${url} names the issuer ${JSON.stringify(document.issuer)}, not "${issuer}".`,
      );
    }
    if (typeof document.jwks_uri !== 'string') {
      throw new Error(`${url} has no "jwks_uri".`);
    }
    this.jwksUri = document.jwks_uri;
    return document.jwks_uri;
  }

  private async fetchJson(url: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'application/json' },
        redirect: 'error',
      });
    } catch (error) {
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? `timed out after ${this.timeoutMs} ms`
          : describeCause(error);
      throw new Error(`GET ${url} failed: ${reason}.`);
    }
    if (!response.ok) {
      throw new Error(`GET ${url} failed with status ${response.status}.`);
    }
    return JSON.parse(await readLimited(response, url));
  }
}

/** Largest key set or discovery document read: real ones are a few kilobytes. */
const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** Reads a response body, failing once it passes `MAX_DOCUMENT_BYTES`. */
async function readLimited(response: Response, url: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (;;) {
    const chunk = reader
      ? await reader.read()
      : { done: true, value: undefined };
    if (chunk.done) {
      break;
    }
    size += chunk.value.byteLength;
    if (size > MAX_DOCUMENT_BYTES) {
      await reader?.cancel();
      throw new Error(
        `GET ${url} returned more than ${MAX_DOCUMENT_BYTES} bytes.`,
      );
    }
    chunks.push(Buffer.from(chunk.value));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Checks a provider URL: https, or http on the loopback interface only. */
function checkedUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} must be a URL, got "${value}".`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(
      `${name} must use https (plain http only on 127.0.0.1 or localhost): anyone on the way could replace the keys.`,
    );
  }
  return value;
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a positive number, got ${value}.`);
  }
  return value;
}

function notNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be 0 or more, got ${value}.`);
  }
  return value;
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })
    ?.cause;
  if (typeof cause?.code === 'string') {
    return cause.code;
  }
  return error instanceof Error ? error.message : String(error);
}
