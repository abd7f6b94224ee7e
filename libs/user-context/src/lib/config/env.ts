import { Logger } from '@nestjs/common';
import { createPrivateKey, createPublicKey } from 'node:crypto';

import {
  ContextEnvelopeCodecOptions,
  EnvelopeKey,
} from '../envelope/context-envelope.codec';
import {
  ClaimsMapper,
  claimsMapperFor,
  ClaimsPreset,
  CLAIMS_PRESETS,
} from '../claims/claims-mapper';
import {
  CONTEXT_TRANSPORTS,
  ContextTransportName,
  DEFAULT_TRANSPORT_SETTINGS,
  TransportSettings,
} from '../transport/transport-settings';
import { JwtVerificationOptions } from '../user-context.options';

const logger = new Logger('UserContextConfig');

/**
 * Reads a secret from the environment.
 *
 * Outside production a missing secret falls back to `developmentValue` with a
 * warning. With `NODE_ENV=production` a missing secret, or one equal to the
 * development value, throws, so a service never starts with a known key. A
 * secret of only whitespace always throws.
 */
export function secretFromEnv(
  name: string,
  developmentValue: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const value = env[name];
  const production = env.NODE_ENV === 'production';

  if (value === undefined || value === '') {
    if (production) {
      throw new Error(
        `${name} is not set. Set it to a random secret of at least 32 bytes.`,
      );
    }
    logger.warn(
      `${name} is not set; using the built-in development secret. Never run like this in production.`,
    );
    return developmentValue;
  }
  if (value.trim() === '') {
    throw new Error(
      `${name} contains only whitespace. Set it to a random secret of at least 32 bytes.`,
    );
  }
  if (
    production &&
    [developmentValue, ...DEVELOPMENT_SECRETS].includes(value.trim())
  ) {
    throw new Error(
      `${name} is the built-in development secret. Set a random secret of at least 32 bytes.`,
    );
  }
  return value;
}

const DECIMAL_INTEGER_PATTERN = /^-?[0-9]+$/;

/** Reads an integer setting from the environment, rejecting junk and values out of range. */
export function intFromEnv(
  name: string,
  defaultValue: number,
  range: { min?: number; max?: number } = {},
  env: NodeJS.ProcessEnv = process.env,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    return defaultValue;
  }
  // Number() alone would also accept ' ' (as 0), '1e3', '0x1F' and ' 42 '.
  const value = DECIMAL_INTEGER_PATTERN.test(raw) ? Number(raw) : Number.NaN;
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } =
    range;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `${name} must be an integer from ${min} to ${max}, got "${raw}".`,
    );
  }
  return value;
}

/**
 * Development-only secrets, used when the variables are unset outside
 * production. They are public by definition: `secretFromEnv` refuses them
 * when `NODE_ENV=production`.
 */
export const DEVELOPMENT_JWT_SECRET =
  'development-only-jwt-secret-change-me-0000';
export const DEVELOPMENT_USER_CONTEXT_SECRET =
  'development-only-user-context-secret-change-me';

const DEVELOPMENT_SECRETS = [
  DEVELOPMENT_JWT_SECRET,
  DEVELOPMENT_USER_CONTEXT_SECRET,
];

/**
 * Reads the gateway's token settings: the key (`JWT_SECRET`, `JWT_PUBLIC_KEY`,
 * `JWKS_URI` or `OIDC_ISSUER`, one of them), `JWT_ISSUER`, `JWT_AUDIENCE`,
 * `JWT_CLOCK_TOLERANCE` and, for a key set, `JWKS_CACHE_SECONDS`,
 * `JWKS_COOLDOWN_SECONDS` and `JWKS_TIMEOUT_MS`.
 */
export function jwtOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): JwtVerificationOptions {
  const common = {
    issuer: env.JWT_ISSUER || undefined,
    audience: env.JWT_AUDIENCE || undefined,
    clockToleranceSeconds: intFromEnv(
      'JWT_CLOCK_TOLERANCE',
      30,
      { min: 0, max: 300 },
      env,
    ),
  };
  const keys = ['JWT_PUBLIC_KEY', 'JWKS_URI', 'OIDC_ISSUER'].filter(
    (name) => env[name],
  );
  if (keys.length > 1 || (keys.length === 1 && env.JWT_SECRET)) {
    throw new Error(
      `Set only one of JWT_SECRET, JWT_PUBLIC_KEY, JWKS_URI and OIDC_ISSUER; got ${[...(env.JWT_SECRET ? ['JWT_SECRET'] : []), ...keys].join(', ')}.`,
    );
  }
  if (keys.length === 0) {
    return {
      ...common,
      secret: secretFromEnv('JWT_SECRET', DEVELOPMENT_JWT_SECRET, env),
    };
  }
  if (env.JWT_PUBLIC_KEY) {
    // A PEM in one line of an .env file has its line breaks written as \n.
    return { ...common, publicKey: env.JWT_PUBLIC_KEY.replace(/\\n/g, '\n') };
  }
  return {
    ...common,
    jwksUri: env.JWKS_URI || undefined,
    oidcIssuer: env.OIDC_ISSUER || undefined,
    keyCacheSeconds: intFromEnv(
      'JWKS_CACHE_SECONDS',
      600,
      { min: 1, max: 86_400 },
      env,
    ),
    keyRefreshCooldownSeconds: intFromEnv(
      'JWKS_COOLDOWN_SECONDS',
      30,
      { min: 0, max: 3600 },
      env,
    ),
    keyFetchTimeoutMs: intFromEnv(
      'JWKS_TIMEOUT_MS',
      5000,
      { min: 100, max: 60_000 },
      env,
    ),
  };
}

/**
 * Reads the envelope settings: a key ring from `USER_CONTEXT_KEYS`, or one
 * key from `USER_CONTEXT_SECRET` and `USER_CONTEXT_KEY_ID` (default `k1`),
 * and `USER_CONTEXT_TTL_SECONDS` (default 60).
 */
export function envelopeOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ContextEnvelopeCodecOptions {
  const ttlSeconds = intFromEnv(
    'USER_CONTEXT_TTL_SECONDS',
    60,
    { min: 1, max: 3600 },
    env,
  );
  const signing = (env.USER_CONTEXT_SIGNING || 'hmac').toLowerCase();
  if (signing === 'ed25519') {
    return { ...ed25519KeysFromEnv(env), ttlSeconds };
  }
  if (signing !== 'hmac') {
    throw new Error(
      `USER_CONTEXT_SIGNING must be hmac or ed25519, got "${env.USER_CONTEXT_SIGNING}".`,
    );
  }
  // Set without Ed25519 signing they would be ignored, and the app would
  // quietly fall back to an HMAC key.
  const stray = [
    'USER_CONTEXT_PRIVATE_KEY',
    'USER_CONTEXT_PUBLIC_KEYS',
    'USER_CONTEXT_FORWARDED_FROM',
  ].filter((name) => env[name]);
  if (stray.length > 0) {
    throw new Error(
      `${stray.join(' and ')} need USER_CONTEXT_SIGNING=ed25519.`,
    );
  }
  if (env.USER_CONTEXT_KEYS) {
    if (env.USER_CONTEXT_SECRET || env.USER_CONTEXT_KEY_ID) {
      throw new Error(
        'Set either USER_CONTEXT_KEYS or USER_CONTEXT_SECRET (with USER_CONTEXT_KEY_ID), not both.',
      );
    }
    return { keys: keyRingFromEnv(env.USER_CONTEXT_KEYS, env), ttlSeconds };
  }
  return {
    keys: [
      {
        id: env.USER_CONTEXT_KEY_ID || 'k1',
        secret: secretFromEnv(
          'USER_CONTEXT_SECRET',
          DEVELOPMENT_USER_CONTEXT_SECRET,
          env,
        ),
      },
    ],
    ttlSeconds,
  };
}

/** DER prefixes that turn a raw 32-byte Ed25519 key into PKCS#8 and SPKI. */
const ED25519_PKCS8_PREFIX = Buffer.from(
  '302e020100300506032b657004220420',
  'hex',
);
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Reads a raw 32-byte Ed25519 key written in base64url, as `npm run context-keys` prints it. */
function rawEd25519Key(name: string, value: string): Buffer {
  const raw = Buffer.from(value.trim(), 'base64url');
  if (raw.length !== 32 || raw.toString('base64url') !== value.trim()) {
    throw new Error(
      `${name} must be a 32-byte Ed25519 key in base64url; run npm run context-keys.`,
    );
  }
  return raw;
}

/**
 * Reads the Ed25519 settings: `USER_CONTEXT_PRIVATE_KEY` on the gateway
 * only, `USER_CONTEXT_PUBLIC_KEYS` (`<id>=<key>` entries) on every app, and
 * `USER_CONTEXT_FORWARDED_FROM`, the services whose envelopes this one
 * accepts when they are passed on unchanged.
 */
function ed25519KeysFromEnv(
  env: NodeJS.ProcessEnv,
): Pick<ContextEnvelopeCodecOptions, 'keys' | 'forwardedFrom'> {
  const keys: EnvelopeKey[] = [];
  if (env.USER_CONTEXT_PRIVATE_KEY) {
    const seed = rawEd25519Key(
      'USER_CONTEXT_PRIVATE_KEY',
      env.USER_CONTEXT_PRIVATE_KEY,
    );
    const privateKey = createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    keys.push({
      id: env.USER_CONTEXT_KEY_ID || 'k1',
      privateKey,
      publicKey: createPublicKey(privateKey),
    });
  }
  for (const entry of (env.USER_CONTEXT_PUBLIC_KEYS ?? '')
    .split(',')
    .filter((part) => part.trim())) {
    const separator = entry.indexOf('=');
    const id = entry.slice(0, separator).trim();
    if (separator <= 0) {
      throw new Error(
        'USER_CONTEXT_PUBLIC_KEYS entries must have the form <id>=<public key>.',
      );
    }
    const raw = rawEd25519Key(
      `USER_CONTEXT_PUBLIC_KEYS key "${id}"`,
      entry.slice(separator + 1),
    );
    const publicKey = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, raw]),
      format: 'der',
      type: 'spki',
    });
    const same = keys.find((key) => key.id === id);
    if (same && 'privateKey' in same && same.privateKey) {
      // The gateway's own key, listed for the services: it must be the same.
      if (!same.publicKey.equals(publicKey)) {
        throw new Error(
          `USER_CONTEXT_PUBLIC_KEYS key "${id}" does not match USER_CONTEXT_PRIVATE_KEY; every service would reject the gateway.`,
        );
      }
      continue;
    }
    if (same) {
      throw new Error(`USER_CONTEXT_PUBLIC_KEYS lists key "${id}" twice.`);
    }
    keys.push({ id, publicKey });
  }
  if (keys.length === 0) {
    throw new Error(
      'USER_CONTEXT_SIGNING=ed25519 needs USER_CONTEXT_PUBLIC_KEYS (and USER_CONTEXT_PRIVATE_KEY on the gateway); run npm run context-keys.',
    );
  }
  const forwardedFrom = (env.USER_CONTEXT_FORWARDED_FROM ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return { keys, forwardedFrom };
}

/**
 * Parses `USER_CONTEXT_KEYS`: comma-separated `<id>=<secret>` entries, the
 * signing key first. Secrets may contain `=` but not `,` or spaces; use hex
 * or base64url.
 */
function keyRingFromEnv(value: string, env: NodeJS.ProcessEnv): EnvelopeKey[] {
  return value.split(',').map((entry, index) => {
    const separator = entry.indexOf('=');
    const id = entry.slice(0, separator).trim();
    const secret = entry.slice(separator + 1).trim();
    if (separator <= 0 || secret === '') {
      throw new Error(
        `USER_CONTEXT_KEYS entry ${index + 1} must have the form <id>=<secret>, such as k2=<64 hex characters>.`,
      );
    }
    if (env.NODE_ENV === 'production' && DEVELOPMENT_SECRETS.includes(secret)) {
      throw new Error(
        `USER_CONTEXT_KEYS key "${id}" is the built-in development secret.`,
      );
    }
    return { id, secret };
  });
}

/** Reads `<PREFIX>_HOST` (default 127.0.0.1) and `<PREFIX>_PORT`. */
export function addressFromEnv(
  prefix: string,
  defaultPort: number,
  env: NodeJS.ProcessEnv = process.env,
): { host: string; port: number } {
  return {
    host: env[`${prefix}_HOST`] || '127.0.0.1',
    port: intFromEnv(
      `${prefix}_PORT`,
      defaultPort,
      { min: 1, max: 65535 },
      env,
    ),
  };
}

const NAMESPACE_PATTERN = /^[A-Za-z0-9_-]{0,64}$/;

/**
 * Reads the transport settings: `TRANSPORT` (tcp, nats, rmq, redis or grpc;
 * default tcp), `NATS_URL`, `RABBITMQ_URL`, `REDIS_URL` and
 * `BROKER_NAMESPACE`. Every default points at 127.0.0.1.
 */
export function transportFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): TransportSettings {
  const transport = (
    env.TRANSPORT || DEFAULT_TRANSPORT_SETTINGS.transport
  ).toLowerCase();
  if (!(CONTEXT_TRANSPORTS as readonly string[]).includes(transport)) {
    throw new Error(
      `TRANSPORT must be one of ${CONTEXT_TRANSPORTS.join(', ')}, got "${env.TRANSPORT}".`,
    );
  }
  const namespace =
    env.BROKER_NAMESPACE ?? DEFAULT_TRANSPORT_SETTINGS.namespace;
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw new Error(
      'BROKER_NAMESPACE may hold only letters, digits, "_" and "-" (at most 64).',
    );
  }
  return {
    transport: transport as ContextTransportName,
    natsUrl: env.NATS_URL || DEFAULT_TRANSPORT_SETTINGS.natsUrl,
    rabbitmqUrl: env.RABBITMQ_URL || DEFAULT_TRANSPORT_SETTINGS.rabbitmqUrl,
    redisUrl: env.REDIS_URL || DEFAULT_TRANSPORT_SETTINGS.redisUrl,
    namespace,
  };
}

/**
 * Reads the claim mapping: `CLAIMS_PRESET` (default, keycloak, auth0 or
 * azure), `CLAIMS_CLIENT_ID` for Keycloak (default `JWT_AUDIENCE`) and
 * `CLAIMS_NAMESPACE` for Auth0.
 */
export function claimsMapperFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ClaimsMapper {
  const preset = (env.CLAIMS_PRESET || 'default').toLowerCase();
  if (!(CLAIMS_PRESETS as readonly string[]).includes(preset)) {
    throw new Error(
      `CLAIMS_PRESET must be one of ${CLAIMS_PRESETS.join(', ')}, got "${env.CLAIMS_PRESET}".`,
    );
  }
  return claimsMapperFor(preset as ClaimsPreset, {
    // The API's own client by default, not the token's azp: any client whose
    // tokens reach this API could otherwise define roles named like ours.
    clientId: env.CLAIMS_CLIENT_ID || env.JWT_AUDIENCE || undefined,
    namespace: env.CLAIMS_NAMESPACE || undefined,
  });
}
