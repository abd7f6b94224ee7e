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

import { envPrefix } from './inject-service.decorator';
import { DOWNSTREAM_SERVICES, DownstreamService } from './services';

export interface GatewayConfig {
  http: { host: string; port: number };
  jwt: JwtVerificationOptions;
  /** Maps token claims to the user context (`CLAIMS_PRESET`). */
  claimsMapper: ClaimsMapper;
  envelope: ContextEnvelopeCodecOptions;
  /** The services behind the gateway, with their addresses and transports. */
  services: ServiceTarget[];
  /** Milliseconds the gateway waits for a service's response before returning 503. */
  rpcTimeoutMs: number;
}

/** A downstream service with the address and transport read from the environment. */
export interface ServiceTarget extends DownstreamService {
  /** Address of the service on TCP and gRPC. */
  host: string;
  port: number;
  /** Transport and broker the service is reached on. */
  transportSettings: TransportSettings;
}

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/** Reads the gateway's settings from the environment; the README lists every variable. */
export function loadGatewayConfig(
  env: NodeJS.ProcessEnv = process.env,
  services: DownstreamService[] = DOWNSTREAM_SERVICES,
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
    services: services.map((service) => serviceTargetFromEnv(service, env)),
    rpcTimeoutMs: intFromEnv(
      'RPC_TIMEOUT_MS',
      5000,
      { min: 1, max: 600_000 },
      env,
    ),
  };
}

/**
 * Reads the address of one service (`<NAME>_HOST`, `<NAME>_PORT`) and its
 * transport: `TRANSPORT` when set, else the service's own default.
 */
function serviceTargetFromEnv(
  service: DownstreamService,
  env: NodeJS.ProcessEnv,
): ServiceTarget {
  const transport = env.TRANSPORT || service.transport;
  return {
    ...service,
    ...addressFromEnv(envPrefix(service.service), service.defaultPort, env),
    transportSettings: transportFromEnv({ ...env, TRANSPORT: transport }),
  };
}
