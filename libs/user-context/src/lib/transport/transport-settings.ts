/** The Nest transports that carry a user context. */
export const CONTEXT_TRANSPORTS = [
  'tcp',
  'nats',
  'rmq',
  'redis',
  'grpc',
] as const;

export type ContextTransportName = (typeof CONTEXT_TRANSPORTS)[number];

/** Transport of every app in a deployment, and the address of its broker. */
export interface TransportSettings {
  transport: ContextTransportName;
  /** NATS server, for `nats`. */
  natsUrl: string;
  /** RabbitMQ server, for `rmq`. */
  rabbitmqUrl: string;
  /** Redis server, for `redis`. */
  redisUrl: string;
  /**
   * Prefix of every NATS subject, Redis channel and RabbitMQ queue, so that
   * several deployments (or test runs) can share one broker without seeing
   * each other's messages. Empty by default.
   */
  namespace: string;
}

/**
 * A gRPC contract: the `.proto` file of one service and how each of its
 * methods maps to a message or event pattern, so that the same
 * `@MessagePattern()` and `@EventPattern()` handlers serve gRPC too.
 */
export interface GrpcServiceContract {
  /** Absolute path of the `.proto` file. */
  protoPath: string;
  /** The proto `package`. */
  package: string;
  /** The proto `service` name. */
  service: string;
  /** Pattern -> method. */
  methods: Record<string, GrpcMethodRoute>;
}

export interface GrpcMethodRoute {
  /** Method name as written in the `.proto` file. */
  rpc: string;
  /**
   * For handlers that return an array: the field of the response message
   * that contains it, since a gRPC response must be a message.
   */
  listField?: string;
  /** The pattern is an event: the method returns an empty message once the handler ran. */
  event?: boolean;
}

export const DEFAULT_TRANSPORT_SETTINGS: TransportSettings = {
  transport: 'tcp',
  natsUrl: 'nats://127.0.0.1:4222',
  rabbitmqUrl: 'amqp://guest:guest@127.0.0.1:5672',
  redisUrl: 'redis://127.0.0.1:6379',
  namespace: '',
};

/**
 * Reconnection settings for clients and servers: keep trying while the
 * broker is away, instead of giving up (nats.js after 10 tries, Nest's Redis
 * transport at once when `retryAttempts` is unset). Requests made meanwhile
 * fail or time out, and the gateway returns 503.
 */
export const NATS_RECONNECT = {
  maxReconnectAttempts: -1,
  reconnectTimeWait: 1000,
};
// maxRetriesPerRequest null: a command waits for the connection instead of
// failing after 20 retries. Nest does not catch that failure on publish, and
// an outage of about 20 s under load ended the gateway and the services.
export const REDIS_RECONNECT = {
  retryAttempts: Number.MAX_SAFE_INTEGER,
  retryDelay: 1000,
  maxRetriesPerRequest: null,
};

/**
 * Socket options of RabbitMQ connections: amqplib leaves Nagle's algorithm
 * on, and each hop of a request or event then waited for a delayed ACK.
 * With it off, an order's status settled in 13 to 58 ms instead of about 125.
 */
export const RMQ_SOCKET_OPTIONS = { connectionOptions: { noDelay: true } };

/** Prefix added to subjects, channels and queue names for `namespace`. */
export function namespacePrefix(
  settings: Pick<TransportSettings, 'namespace'>,
): string {
  return settings.namespace ? `${settings.namespace}.` : '';
}

/** Splits a `redis://[:password@]host[:port][/db]` URL into ioredis options. */
export function redisOptionsFromUrl(url: string): {
  host: string;
  port: number;
  password?: string;
  db?: number;
} {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:') {
    throw new Error(
      `REDIS_URL must start with redis://, got "${parsed.protocol}//".`,
    );
  }
  const path = parsed.pathname.slice(1);
  // Decimal digits only: Number() alone would also take '-1', '0x10' and '1e1'.
  const db = path
    ? /^[0-9]{1,5}$/.test(path)
      ? Number(path)
      : Number.NaN
    : undefined;
  if (db !== undefined && !Number.isInteger(db)) {
    throw new Error(
      'REDIS_URL must end with a database number, such as redis://127.0.0.1:6379/0.',
    );
  }
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.password
      ? { password: decodeURIComponent(parsed.password) }
      : {}),
    ...(db !== undefined ? { db } : {}),
  };
}
