import {
  DynamicModule,
  INestMicroservice,
  NestApplicationOptions,
  Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CustomTransportStrategy } from '@nestjs/microservices';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { ContextLogger } from '../logging/context-logger';
import { ContextGrpcServer } from './context-grpc';
import { ContextNatsServer } from './context-nats';
import { ContextRedisServer } from './context-redis';
import { ContextRmqServer } from './context-rmq';
import { ContextTcpServer } from './context-tcp.server';
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

export interface UserContextMicroserviceOptions extends Pick<
  NestApplicationOptions,
  'logger' | 'bufferLogs' | 'abortOnError'
> {
  /** Transport and broker; TCP when left out. */
  transport?: TransportSettings;
  /**
   * The service's name: its RabbitMQ queue and its NATS queue group, so
   * that replicas of one service share its messages. Needed for `nats` and `rmq`.
   */
  serviceName?: string;
  /** Address that TCP and gRPC listen on. */
  host: string;
  port: number;
  /** The service's `.proto` contract; needed for `grpc`. */
  grpc?: GrpcServiceContract;
  /**
   * TCP: largest packet, in characters, buffered before its envelope can be
   * checked. Default 1 MiB; Nest's own default is 128 Mi characters, which
   * lets a peer with no envelope hold that much memory per connection.
   */
  maxBufferSize?: number;
}

const DEFAULT_MAX_BUFFER_SIZE = 1024 * 1024;

/**
 * Creates a Nest microservice whose transport verifies the user-context
 * envelope of every message before any guard, pipe or handler runs. The
 * root module must import `UserContextModule` with `role: 'service'`. Logs
 * through `ContextLogger` unless `logger` is set.
 *
 * @example
 * const app = await createUserContextMicroservice(AppModule, { host: '127.0.0.1', port: 3001 });
 * await app.listen();
 */
export async function createUserContextMicroservice(
  module: Type<unknown> | DynamicModule,
  options: UserContextMicroserviceOptions,
): Promise<INestMicroservice> {
  const {
    transport,
    serviceName,
    host,
    port,
    grpc,
    maxBufferSize,
    ...appOptions
  } = options;
  let codec: ContextEnvelopeCodec | undefined;
  const resolveCodec = () => {
    if (!codec) {
      throw new Error('The user-context codec is not available yet.');
    }
    return codec;
  };
  const strategy = createServerStrategy(
    { transport, serviceName, host, port, grpc, maxBufferSize },
    resolveCodec,
  );

  const app = await NestFactory.createMicroservice(module, {
    logger: new ContextLogger(),
    ...appOptions,
    strategy,
  });
  codec = app.get(ContextEnvelopeCodec);
  return app;
}

/** Describes where a service listens, for its start-up log line. */
export function describeListener(
  options: Pick<
    UserContextMicroserviceOptions,
    'transport' | 'serviceName' | 'host' | 'port'
  >,
): string {
  const settings = options.transport ?? DEFAULT_TRANSPORT_SETTINGS;
  const prefix = namespacePrefix(settings);
  switch (settings.transport) {
    case 'tcp':
      return `tcp://${options.host}:${options.port}`;
    case 'grpc':
      return `grpc://${options.host}:${options.port}`;
    case 'nats':
      return `${redactUrl(settings.natsUrl)} (queue group ${options.serviceName}${prefix ? `, subjects ${prefix}*` : ''})`;
    case 'rmq':
      return `${redactUrl(settings.rabbitmqUrl)} (queue ${prefix}${options.serviceName})`;
    case 'redis':
      return `${redactUrl(settings.redisUrl)}${prefix ? ` (channels ${prefix}*)` : ''}`;
  }
}

/** Hides a password in a broker URL, so that log lines never carry one. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      parsed.password = '***';
    }
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}

function createServerStrategy(
  options: Omit<
    UserContextMicroserviceOptions,
    'logger' | 'bufferLogs' | 'abortOnError'
  >,
  resolveCodec: () => ContextEnvelopeCodec,
): CustomTransportStrategy {
  const settings = options.transport ?? DEFAULT_TRANSPORT_SETTINGS;
  const prefix = namespacePrefix(settings);
  const { host, port } = options;
  switch (settings.transport) {
    case 'tcp':
      return new ContextTcpServer(
        {
          host,
          port,
          maxBufferSize: options.maxBufferSize ?? DEFAULT_MAX_BUFFER_SIZE,
        },
        resolveCodec,
      );
    case 'nats':
      return new ContextNatsServer(
        {
          ...NATS_RECONNECT,
          servers: [settings.natsUrl],
          queue: requireName(options.serviceName, 'nats'),
          subjectPrefix: prefix,
        },
        resolveCodec,
      );
    case 'rmq':
      return new ContextRmqServer(
        {
          urls: [settings.rabbitmqUrl],
          queue: `${prefix}${requireName(options.serviceName, 'rmq')}`,
          queueOptions: RMQ_QUEUE_OPTIONS,
          socketOptions: RMQ_SOCKET_OPTIONS,
        },
        resolveCodec,
      );
    case 'redis':
      return new ContextRedisServer(
        {
          ...REDIS_RECONNECT,
          ...redisOptionsFromUrl(settings.redisUrl),
          channelPrefix: prefix,
        },
        resolveCodec,
      );
    case 'grpc':
      if (!options.grpc) {
        throw new Error(
          'TRANSPORT=grpc needs the service\'s .proto contract (the "grpc" option).',
        );
      }
      return new ContextGrpcServer(
        { url: `${host}:${port}`, contract: options.grpc },
        resolveCodec,
      );
  }
}

/**
 * Queue options shared by servers and clients: RabbitMQ refuses to declare
 * one queue twice with different options. Durable, so that queued requests
 * and events survive a broker restart.
 */
export const RMQ_QUEUE_OPTIONS = { durable: true };

function requireName(
  serviceName: string | undefined,
  transport: string,
): string {
  if (!serviceName) {
    throw new Error(
      `TRANSPORT=${transport} needs a service name (the "serviceName" option).`,
    );
  }
  return serviceName;
}
