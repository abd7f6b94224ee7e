import {
  createHmac,
  KeyObject,
  sign as signWithKey,
  timingSafeEqual,
  verify as verifyWithKey,
} from 'node:crypto';

import { UserContext } from '../user-context.interface';
import { ContextEnvelopeError } from './context-envelope.error';

/**
 * One key of the ring, named by the id that envelopes carry: an HMAC-SHA256
 * `secret`, or an Ed25519 `publicKey` with, on the signer only, its
 * `privateKey`.
 */
export type EnvelopeKey = HmacEnvelopeKey | Ed25519EnvelopeKey;

export interface HmacEnvelopeKey {
  /** Key id, 1-64 characters of `[A-Za-z0-9_-]`. */
  id: string;
  /** Shared secret; at least 32 bytes. */
  secret: string | Buffer;
}

export interface Ed25519EnvelopeKey {
  /** Key id, 1-64 characters of `[A-Za-z0-9_-]`. */
  id: string;
  /** Verifies envelopes signed with this key. */
  publicKey: KeyObject;
  /** Signs envelopes. Only the gateway has it, so services cannot mint a context. */
  privateKey?: KeyObject;
}

/** A key as the codec uses it. */
type RingKey =
  | { kind: 'hmac'; secret: Buffer }
  | { kind: 'ed25519'; publicKey: KeyObject; privateKey?: KeyObject };

export interface ContextEnvelopeCodecOptions {
  /**
   * Keys accepted for verification. The first one signs. Services that only
   * verify may list retired keys after it.
   */
  keys: EnvelopeKey[];
  /** Lifetime of a signed envelope in seconds. Default 60. */
  ttlSeconds?: number;
  /** Clock skew tolerated between signer and verifier, in seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** Envelopes longer than this many characters are rejected unparsed. Default 8192. */
  maxLength?: number;
  /**
   * Maximum length of an envelope this codec signs; default `maxLength`. A gateway keeps
   * room below `maxLength`, because a service re-signs the same context for
   * the next hop under a longer audience name or with Ed25519.
   */
  maxSignedLength?: number;
  /**
   * The service this codec verifies for. When set, `verify` accepts only
   * envelopes signed for it (`aud`), so an envelope captured on its way to
   * one service cannot be replayed to another. Unset on a gateway, which
   * only signs.
   */
  audience?: string;
  /**
   * Other audiences this service accepts: the services that forward an
   * envelope to it unchanged. Needed with Ed25519 keys, where a service
   * cannot sign and passes on the envelope it received.
   */
  forwardedFrom?: string[];
}

/** Contents of a verified envelope: the user plus request and key metadata. */
export interface VerifiedEnvelope {
  user: UserContext;
  requestId: string;
  keyId: string;
  /** The envelope as received, for a service that forwards it unchanged. */
  envelope: string;
  /** Issue and expiry times, in seconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
}

interface EnvelopeClaims {
  sub: string;
  email?: string;
  roles: string[];
  permissions: string[];
  rid: string;
  /** The service the envelope is for; absent only from envelopes signed without one. */
  aud?: string;
  iat: number;
  exp: number;
}

const VERSION = 'v1';
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]+$/;
const MIN_SECRET_BYTES = 32;
const SIGNATURE_BYTES = 32;
const SIGNATURE_LENGTH = 43;
const CANONICAL_LAST_CHARACTERS = 'AEIMQUYcgkosw048';

/**
 * Signs and verifies user-context envelopes.
 *
 * Wire format (ASCII, so it fits a header): `v1.<keyId>.<payload>.<signature>`
 * where `payload` is base64url JSON and `signature` is the base64url
 * HMAC-SHA256 of `v1.<keyId>.<payload>` exactly as received. The payload is
 * parsed only after the signature has been checked in constant time.
 */
export class ContextEnvelopeCodec {
  private readonly keys = new Map<string, RingKey>();
  private readonly signingKeyId: string;
  private readonly ttlSeconds: number;
  private readonly toleranceSeconds: number;
  private readonly maxLength: number;
  private readonly maxSignedLength: number;
  private readonly audiences?: Set<string>;

  constructor(options: ContextEnvelopeCodecOptions) {
    if (options.keys.length === 0) {
      throw new Error('ContextEnvelopeCodec needs at least one key.');
    }
    for (const key of options.keys) {
      if (this.keys.has(key.id)) {
        throw new Error(
          `Envelope key id "${key.id}" is listed twice; every key needs its own id.`,
        );
      }
      this.keys.set(key.id, toRingKey(key));
    }
    this.signingKeyId = options.keys[0].id;
    this.ttlSeconds = positiveNumber(options.ttlSeconds ?? 60, 'ttlSeconds');
    this.toleranceSeconds = options.clockToleranceSeconds ?? 5;
    if (!Number.isFinite(this.toleranceSeconds) || this.toleranceSeconds < 0) {
      throw new Error(
        `clockToleranceSeconds must be 0 or more, got ${this.toleranceSeconds}.`,
      );
    }
    this.audiences =
      options.audience === undefined
        ? undefined
        : new Set([options.audience, ...(options.forwardedFrom ?? [])]);
    this.maxLength = options.maxLength ?? 8192;
    if (!Number.isInteger(this.maxLength) || this.maxLength <= 0) {
      throw new Error(
        `maxLength must be a positive integer, got ${this.maxLength}.`,
      );
    }
    this.maxSignedLength = Math.min(
      options.maxSignedLength ?? this.maxLength,
      this.maxLength,
    );
  }

  /** Tells whether this codec can sign: false for a service that has only Ed25519 public keys. */
  get canSign(): boolean {
    return isSigningKey(this.keys.get(this.signingKeyId) as RingKey);
  }

  /**
   * Signs `user` for one hop to the service `audience`, bound to `requestId`.
   *
   * @throws ContextEnvelopeError (`too-large`) when the envelope would be
   *   longer than `maxLength`.
   */
  sign(
    user: UserContext,
    requestId: string,
    now = Date.now(),
    audience?: string,
  ): string {
    const issuedAt = Math.floor(now / 1000);
    const claims: EnvelopeClaims = {
      sub: user.userId,
      ...(user.email === undefined ? {} : { email: user.email }),
      roles: user.roles,
      permissions: user.permissions,
      rid: requestId,
      ...(audience === undefined ? {} : { aud: audience }),
      iat: issuedAt,
      exp: issuedAt + this.ttlSeconds,
    };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const signingInput = `${VERSION}.${this.signingKeyId}.${payload}`;
    const key = this.keys.get(this.signingKeyId) as RingKey;
    let signature: Buffer;
    if (key.kind === 'hmac') {
      signature = hmac(key.secret, signingInput);
    } else if (key.privateKey) {
      signature = signWithKey(null, Buffer.from(signingInput), key.privateKey);
    } else {
      throw new Error(
        `Envelope key "${this.signingKeyId}" has no private key: this codec can verify envelopes but not sign them.`,
      );
    }
    const envelope = `${signingInput}.${signature.toString('base64url')}`;

    // Checked here too, so that a user with very many roles or permissions
    // gets a clear error at the sender instead of a rejection downstream.
    if (envelope.length > this.maxSignedLength) {
      throw new ContextEnvelopeError(
        'too-large',
        `User context is too large to sign: ${envelope.length} characters, at most ${this.maxSignedLength}.`,
      );
    }
    return envelope;
  }

  /**
   * Verifies an envelope and returns its contents.
   *
   * @throws ContextEnvelopeError for a missing, oversized, malformed,
   *   tampered, unknown-key, expired or not-yet-valid envelope.
   */
  verify(envelope: unknown, now = Date.now()): VerifiedEnvelope {
    if (envelope === undefined || envelope === null || envelope === '') {
      throw new ContextEnvelopeError(
        'missing',
        'User context envelope is missing.',
      );
    }
    if (typeof envelope !== 'string') {
      throw new ContextEnvelopeError(
        'malformed',
        'User context envelope must be a string.',
      );
    }
    if (envelope.length > this.maxLength) {
      throw new ContextEnvelopeError(
        'too-large',
        `User context envelope is longer than ${this.maxLength} characters.`,
      );
    }

    const parts = envelope.split('.');
    if (parts.length !== 4) {
      throw new ContextEnvelopeError(
        'malformed',
        'User context envelope is malformed.',
      );
    }
    const [version, keyId, payload, signature] = parts;
    if (version !== VERSION) {
      throw new ContextEnvelopeError(
        'unsupported-version',
        `User context envelope version is not supported; expected ${VERSION}.`,
      );
    }
    const key = KEY_ID_PATTERN.test(keyId) ? this.keys.get(keyId) : undefined;
    if (!key) {
      throw new ContextEnvelopeError(
        'unknown-key',
        'User context envelope names an unknown key id.',
      );
    }
    if (key.kind === 'hmac') {
      this.checkSignature(
        key.secret,
        `${version}.${keyId}.${payload}`,
        payload,
        signature,
      );
    } else {
      checkEd25519Signature(
        key.publicKey,
        `${version}.${keyId}.${payload}`,
        payload,
        signature,
      );
    }

    const claims = parseClaims(payload);
    this.checkLifetime(claims, now);
    if (
      this.audiences !== undefined &&
      !this.audiences.has(claims.aud as string)
    ) {
      throw new ContextEnvelopeError(
        'wrong-audience',
        `User context envelope is not for this service ("${[...this.audiences][0]}").`,
      );
    }

    return {
      user: {
        userId: claims.sub,
        ...(claims.email === undefined ? {} : { email: claims.email }),
        roles: claims.roles,
        permissions: claims.permissions,
      },
      requestId: claims.rid,
      keyId,
      envelope,
      issuedAt: claims.iat,
      expiresAt: claims.exp,
    };
  }

  /**
   * Compares the received signature with the expected one in constant time.
   *
   * 32 bytes encode as 43 base64url characters, and the last one carries 2
   * unused bits. Only the canonical spelling, with those bits zero (16 of the
   * 64 characters), is accepted, so an envelope has exactly one valid form.
   */
  private checkSignature(
    key: Buffer,
    signingInput: string,
    payload: string,
    signature: string,
  ): void {
    const canonical =
      signature.length === SIGNATURE_LENGTH &&
      CANONICAL_LAST_CHARACTERS.includes(signature[42]);
    const received = Buffer.from(signature, 'base64url');
    // timingSafeEqual needs equal lengths; the length of a valid signature is
    // public anyway.
    const valid =
      canonical &&
      received.length === SIGNATURE_BYTES &&
      timingSafeEqual(received, hmac(key, signingInput));
    if (valid) {
      return;
    }
    // A valid signature already proves that the signer wrote the text, so
    // the encoding is checked only here, to name the failure.
    if (
      !BASE64URL_PATTERN.test(payload) ||
      !BASE64URL_PATTERN.test(signature)
    ) {
      throw new ContextEnvelopeError(
        'malformed',
        'User context envelope is not base64url encoded.',
      );
    }
    throw new ContextEnvelopeError(
      'bad-signature',
      'User context envelope signature is invalid.',
    );
  }

  private checkLifetime(claims: EnvelopeClaims, now: number): void {
    const nowSeconds = now / 1000;
    if (claims.exp + this.toleranceSeconds <= nowSeconds) {
      throw new ContextEnvelopeError(
        'expired',
        'User context envelope has expired.',
      );
    }
    if (claims.iat - this.toleranceSeconds > nowSeconds) {
      throw new ContextEnvelopeError(
        'not-yet-valid',
        'User context envelope is not valid yet.',
      );
    }
  }
}

/** Tells whether a ring key can sign: an Ed25519 key without its private half cannot. */
function isSigningKey(key: RingKey): boolean {
  return key.kind === 'hmac' || key.privateKey !== undefined;
}

function toRingKey(key: EnvelopeKey): RingKey {
  if (!KEY_ID_PATTERN.test(key.id)) {
    throw new Error(
      `Envelope key id "${key.id}" is invalid; use 1-64 characters of A-Z, a-z, 0-9, "_" or "-".`,
    );
  }
  if ('publicKey' in key) {
    if (key.publicKey.asymmetricKeyType !== 'ed25519') {
      throw new Error(
        `Envelope key "${key.id}" must be an Ed25519 public key.`,
      );
    }
    if (key.privateKey && key.privateKey.asymmetricKeyType !== 'ed25519') {
      throw new Error(
        `Envelope key "${key.id}" must have an Ed25519 private key.`,
      );
    }
    return {
      kind: 'ed25519',
      publicKey: key.publicKey,
      privateKey: key.privateKey,
    };
  }
  return { kind: 'hmac', secret: toHmacKey(key) };
}

const ED25519_SIGNATURE_LENGTH = 86;

/**
 * Verifies an Ed25519 signature. 64 bytes encode as 86 base64url characters,
 * and the last one carries 4 unused bits. Only the canonical spelling passes,
 * so an envelope has exactly one valid form here too.
 */
function checkEd25519Signature(
  publicKey: KeyObject,
  signingInput: string,
  payload: string,
  signature: string,
): void {
  const received = Buffer.from(signature, 'base64url');
  const valid =
    signature.length === ED25519_SIGNATURE_LENGTH &&
    received.toString('base64url') === signature &&
    verifyWithKey(null, Buffer.from(signingInput), publicKey, received);
  if (valid) {
    return;
  }
  if (!BASE64URL_PATTERN.test(payload) || !BASE64URL_PATTERN.test(signature)) {
    throw new ContextEnvelopeError(
      'malformed',
      'User context envelope is not base64url encoded.',
    );
  }
  throw new ContextEnvelopeError(
    'bad-signature',
    'User context envelope signature is invalid.',
  );
}

function toHmacKey(key: HmacEnvelopeKey): Buffer {
  const secret =
    typeof key.secret === 'string' ? Buffer.from(key.secret) : key.secret;
  if (secret.length < MIN_SECRET_BYTES) {
    throw new Error(
      `Envelope key "${key.id}" is ${secret.length} bytes long; HMAC-SHA256 needs at least ${MIN_SECRET_BYTES}.`,
    );
  }
  // A private copy, so that a caller changing its Buffer cannot change the key.
  return Buffer.from(secret);
}

function hmac(key: Buffer, input: string): Buffer {
  return createHmac('sha256', key).update(input).digest();
}

function positiveNumber(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(
      `${name} must be a positive number of seconds, got ${value}.`,
    );
  }
  return value;
}

function isStringArray(value: unknown): value is string[] {
  return (
    Array.isArray(value) && value.every((item) => typeof item === 'string')
  );
}

function parseClaims(payload: string): EnvelopeClaims {
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new ContextEnvelopeError(
      'malformed',
      'User context envelope payload is not JSON.',
    );
  }

  const valid =
    typeof claims === 'object' &&
    claims !== null &&
    typeof claims.sub === 'string' &&
    claims.sub.length > 0 &&
    (claims.email === undefined || typeof claims.email === 'string') &&
    isStringArray(claims.roles) &&
    isStringArray(claims.permissions) &&
    typeof claims.rid === 'string' &&
    (claims.aud === undefined || typeof claims.aud === 'string') &&
    Number.isFinite(claims.iat) &&
    Number.isFinite(claims.exp);
  if (!valid) {
    throw new ContextEnvelopeError(
      'invalid-claims',
      'User context envelope claims are invalid.',
    );
  }
  return claims as unknown as EnvelopeClaims;
}
