import { DynamicModule } from '@nestjs/common';
import { ClientProxy, ClientsModule } from '@nestjs/microservices';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { ContextGrpcClient } from './context-grpc';
import { ContextNatsClient } from './context-nats';
import { ContextRedisClient } from './context-redis';
import { ContextRmqClient } from './context-rmq';
import { ContextTcpClient } from './context-tcp.client';
import { RMQ_QUEUE_OPTIONS } from './create-microservice';
import {
  DEFAULT_TRANSPORT_SETTINGS,
  GrpcServiceContract,
  namespacePrefix,
  NATS_RECONNECT,
  REDIS_RECONNECT,
  RMQ_SOCKET_OPTIONS,
  redisOptionsFromUrl,
  TransportSettings,
} from './transport-settings';

/** One service that the app calls. */
export interface ContextClientTarget {
  /** Injection token of the client, as in `ClientsModule.register`. */
  name: string | symbol;
  /**
   * The target's service name, as in its `UserContextModule` options: the
   * audience of the envelopes sent to it, and its RabbitMQ queue.
   */
  service?: string;
  /** Address of the target on TCP or gRPC. */
  host: string;
  port: number;
  /** The target's `.proto` contract; needed for `grpc`. */
  grpc?: GrpcServiceContract;
}

export interface ContextClientOptions {
  /**
   * The caller's timeout for a request, in milliseconds. On RabbitMQ a
   * request expires in the queue after it, so it never runs once the caller
   * has given up.
   */
  requestTimeoutMs?: number;
}

type ClientClass = new (options: never) => ClientProxy;

/**
 * Registers one context client per target with `ClientsModule`, on the
 * transport of `settings` (TCP when left out). Each signs the caller's
 * context with the app's `ContextEnvelopeCodec`, so `UserContextModule`
 * must be imported globally, as it is by default.
 *
 * @example
 * imports: [registerContextClients([{ name: ORDERS_CLIENT, service: 'orders', host: '127.0.0.1', port: 3001 }])]
 */
export function registerContextClients(
  targets: ContextClientTarget[],
  settings: TransportSettings = DEFAULT_TRANSPORT_SETTINGS,
  options: ContextClientOptions = {},
): DynamicModule {
  return ClientsModule.registerAsync(
    targets.map((target) => ({
      name: target.name,
      inject: [ContextEnvelopeCodec],
      useFactory: (codec: ContextEnvelopeCodec) => ({
        customClass: clientClass(settings) as ClientClass,
        options: {
          ...clientOptions(target, settings),
          codec,
          audience: target.service,
          ...(settings.transport === 'rmq' &&
          options.requestTimeoutMs !== undefined
            ? { requestTtlMs: options.requestTimeoutMs }
            : {}),
        },
      }),
    })),
  );
}

function clientClass(settings: TransportSettings) {
  switch (settings.transport) {
    case 'tcp':
      return ContextTcpClient;
    case 'nats':
      return ContextNatsClient;
    case 'rmq':
      return ContextRmqClient;
    case 'redis':
      return ContextRedisClient;
    case 'grpc':
      return ContextGrpcClient;
  }
}

function clientOptions(
  target: ContextClientTarget,
  settings: TransportSettings,
): Record<string, unknown> {
  const prefix = namespacePrefix(settings);
  switch (settings.transport) {
    case 'tcp':
      return { host: target.host, port: target.port };
    case 'nats':
      return {
        ...NATS_RECONNECT,
        servers: [settings.natsUrl],
        subjectPrefix: prefix,
      };
    case 'rmq':
      if (!target.service) {
        throw new Error(
          `TRANSPORT=rmq needs the service name of client ${String(target.name)}.`,
        );
      }
      return {
        urls: [settings.rabbitmqUrl],
        queue: `${prefix}${target.service}`,
        queueOptions: RMQ_QUEUE_OPTIONS,
        socketOptions: RMQ_SOCKET_OPTIONS,
      };
    case 'redis':
      return {
        ...REDIS_RECONNECT,
        ...redisOptionsFromUrl(settings.redisUrl),
        channelPrefix: prefix,
      };
    case 'grpc':
      if (!target.grpc) {
        throw new Error(
          `TRANSPORT=grpc needs the .proto contract of client ${String(target.name)}.`,
        );
      }
      return { url: `${target.host}:${target.port}`, contract: target.grpc };
  }
}
