import {
  addressFromEnv,
  ClaimsMapper,
  claimsMapperFromEnv,
  ContextEnvelopeCodecOptions,
  envelopeOptionsFromEnv,
  intFromEnv,
  JwtVerificationOptions,
  jwtOptionsFromEnv,
  TransportSettings,
  transportFromEnv,
} from '@platform/user-context';

export interface GatewayConfig {
  http: { host: string; port: number };
  jwt: JwtVerificationOptions;
  /** Maps token claims to the user context (`CLAIMS_PRESET`). */
  claimsMapper: ClaimsMapper;
  envelope: ContextEnvelopeCodecOptions;
  /** Transport and broker the services are reached on. */
  transport: TransportSettings;
  orders: { host: string; port: number };
  inventory: { host: string; port: number };
  /** Milliseconds the gateway waits for a service's response before returning 503. */
  rpcTimeoutMs: number;
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/** Reads the gateway's settings from the environment; the README lists every variable. */
export function loadGatewayConfig(
  env: NodeJS.ProcessEnv = process.env,
): GatewayConfig {
  const jwt = jwtOptionsFromEnv(env);
  const envelope = envelopeOptionsFromEnv(env);
  // One shared value would let anyone who can mint user tokens mint
  // envelopes too, and the other way round.
  if (
    envelope.keys.some(
      (key) => 'secret' in key && String(key.secret) === jwt.secret,
    )
  ) {
    throw new Error(
      'JWT_SECRET and USER_CONTEXT_SECRET must differ. Give each its own random value.',
    );
  }

  return {
    http: addressFromEnv('GATEWAY', 3000, env),
    jwt,
    claimsMapper: claimsMapperFromEnv(env),
    envelope,
    transport: transportFromEnv(env),
    orders: addressFromEnv('ORDERS', 3001, env),
    inventory: addressFromEnv('INVENTORY', 3002, env),
    rpcTimeoutMs: intFromEnv(
      'RPC_TIMEOUT_MS',
      5000,
      { min: 1, max: 600_000 },
      env,
    ),
  };
}
