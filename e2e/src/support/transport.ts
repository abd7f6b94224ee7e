import 'reflect-metadata';

import { randomBytes, randomUUID } from 'node:crypto';

import { INVENTORY_GRPC, ORDERS_GRPC } from '@platform/contracts';
import {
  CONTEXT_TRANSPORTS,
  ContextTransportName,
  DEFAULT_TRANSPORT_SETTINGS,
  fromGrpcError,
  GrpcServiceContract,
  USER_CONTEXT_HEADER,
} from '@platform/user-context';

import { RawTcpPeer } from './raw-tcp';

export type ServiceName = 'orders' | 'inventory';

/**
 * Returns the transport of this run of the suite: each Jest project of the
 * e2e suite sets the global `E2E_TRANSPORT` (see e2e/jest.config.ts). An
 * unknown value fails every suite rather than quietly testing TCP.
 */
export function e2eTransport(): ContextTransportName {
  const value = String(
    (globalThis as { E2E_TRANSPORT?: unknown }).E2E_TRANSPORT ?? 'tcp',
  );
  if (!(CONTEXT_TRANSPORTS as readonly string[]).includes(value)) {
    throw new Error(
      `E2E_TRANSPORT must be one of ${CONTEXT_TRANSPORTS.join(', ')}, got "${value}".`,
    );
  }
  return value as ContextTransportName;
}

/**
 * Returns a suite title tagged with this run's transport, such as
 * `orders flow [nats]`: `.ci/run` checks that every transport ran tests.
 */
export function onTransport(title: string): string {
  return `${title} [${e2eTransport()}]`;
}

/**
 * Variables that put a stack on the suite's transport. Broker transports get
 * a namespace of their own, so suites running side by side on one broker
 * never receive each other's messages.
 */
export function transportEnv(
  transport: ContextTransportName,
): NodeJS.ProcessEnv {
  if (transport === 'tcp' || transport === 'grpc') {
    return { TRANSPORT: transport };
  }
  return {
    TRANSPORT: transport,
    BROKER_NAMESPACE: `e2e-${randomBytes(6).toString('hex')}`,
  };
}

/** A reply as Nest's transports carry it: `err` or `response`. */
export interface RawAnswer {
  err?: unknown;
  response?: unknown;
}

/**
 * A peer that talks to a service over the suite's transport without any Nest
 * code, to send what the gateway never would: no envelope, a forged one, or
 * extra fields beside `pattern` and `data`.
 */
export interface RawPeer {
  /** Sends a request; `envelope`, when given, goes where the transport carries it. */
  request(
    pattern: string,
    data: unknown,
    envelope?: unknown,
    extra?: Record<string, unknown>,
  ): Promise<RawAnswer>;
  /** Sends an event; nothing comes back. */
  emit(pattern: string, data: unknown, envelope?: unknown): Promise<void>;
  /** Brokers only: publishes bytes as they are, without Nest's packet around them. */
  publishRaw?(
    pattern: string,
    bytes: string,
    envelope?: unknown,
  ): Promise<void>;
  close(): Promise<void>;
}

export async function openRawPeer(
  transport: ContextTransportName,
  service: ServiceName,
  env: NodeJS.ProcessEnv,
): Promise<RawPeer> {
  const prefix = env.BROKER_NAMESPACE ? `${env.BROKER_NAMESPACE}.` : '';
  switch (transport) {
    case 'tcp':
      return TcpPeer.open(
        Number(env[service === 'orders' ? 'ORDERS_PORT' : 'INVENTORY_PORT']),
      );
    case 'nats':
      return NatsPeer.open(
        env.NATS_URL || DEFAULT_TRANSPORT_SETTINGS.natsUrl,
        prefix,
      );
    case 'rmq':
      return RmqPeer.open(
        env.RABBITMQ_URL || DEFAULT_TRANSPORT_SETTINGS.rabbitmqUrl,
        `${prefix}${service}`,
      );
    case 'redis':
      return RedisPeer.open(
        env.REDIS_URL || DEFAULT_TRANSPORT_SETTINGS.redisUrl,
        prefix,
      );
    case 'grpc':
      return GrpcPeer.open(
        `127.0.0.1:${env[service === 'orders' ? 'ORDERS_PORT' : 'INVENTORY_PORT']}`,
        service === 'orders' ? ORDERS_GRPC : INVENTORY_GRPC,
      );
  }
}

function withEnvelope(
  extra: Record<string, unknown>,
  envelope: unknown,
): Record<string, unknown> {
  return envelope === undefined
    ? extra
    : { ...extra, [USER_CONTEXT_HEADER]: envelope };
}

function timeoutError(pattern: string): Error {
  return new Error(`No response to ${pattern} within 5000 ms.`);
}

class TcpPeer implements RawPeer {
  private constructor(private readonly peer: RawTcpPeer) {}

  static async open(port: number): Promise<TcpPeer> {
    return new TcpPeer(await RawTcpPeer.open(port));
  }

  async request(
    pattern: string,
    data: unknown,
    envelope?: unknown,
    extra: Record<string, unknown> = {},
  ) {
    return this.peer.request(
      pattern,
      data,
      withEnvelope(extra, envelope),
    ) as Promise<RawAnswer>;
  }

  async emit(pattern: string, data: unknown, envelope?: unknown) {
    this.peer.emit(pattern, data, withEnvelope({}, envelope));
  }

  async close() {
    this.peer.close();
  }
}

class NatsPeer implements RawPeer {
  private readonly nats = require('nats');

  private constructor(
    private readonly connection: any,
    private readonly prefix: string,
  ) {}

  static async open(url: string, prefix: string): Promise<NatsPeer> {
    const { connect } = require('nats');
    return new NatsPeer(await connect({ servers: [url] }), prefix);
  }

  async request(
    pattern: string,
    data: unknown,
    envelope?: unknown,
    extra: Record<string, unknown> = {},
  ) {
    const packet = { pattern, data, id: randomUUID(), ...extra };
    const reply = await this.connection.request(
      this.prefix + pattern,
      JSON.stringify(packet),
      {
        timeout: 5000,
        headers: this.headers(envelope),
      },
    );
    return JSON.parse(new TextDecoder().decode(reply.data)) as RawAnswer;
  }

  async emit(pattern: string, data: unknown, envelope?: unknown) {
    this.connection.publish(
      this.prefix + pattern,
      JSON.stringify({ pattern, data }),
      {
        headers: this.headers(envelope),
      },
    );
    await this.connection.flush();
  }

  async publishRaw(pattern: string, bytes: string, envelope?: unknown) {
    this.connection.publish(this.prefix + pattern, bytes, {
      headers: this.headers(envelope),
    });
    await this.connection.flush();
  }

  async close() {
    await this.connection.close();
  }

  private headers(envelope: unknown) {
    if (envelope === undefined) {
      return undefined;
    }
    const headers = this.nats.headers();
    headers.set(USER_CONTEXT_HEADER, String(envelope));
    return headers;
  }
}

class RmqPeer implements RawPeer {
  private readonly pending = new Map<string, (answer: RawAnswer) => void>();

  private constructor(
    private readonly connection: any,
    private readonly channel: any,
    private readonly queue: string,
  ) {}

  static async open(url: string, queue: string): Promise<RmqPeer> {
    const amqp = require('amqplib');
    const connection = await amqp.connect(url);
    const channel = await connection.createChannel();
    const peer = new RmqPeer(connection, channel, queue);
    await channel.consume(
      'amq.rabbitmq.reply-to',
      (message: any) =>
        peer.pending.get(message.properties.correlationId)?.(
          JSON.parse(message.content.toString()),
        ),
      { noAck: true },
    );
    return peer;
  }

  request(
    pattern: string,
    data: unknown,
    envelope?: unknown,
    extra: Record<string, unknown> = {},
  ) {
    const id = randomUUID();
    return new Promise<RawAnswer>((resolveAnswer, reject) => {
      const timer = setTimeout(() => reject(timeoutError(pattern)), 5000);
      this.pending.set(id, (answer) => {
        clearTimeout(timer);
        resolveAnswer(answer);
      });
      this.channel.sendToQueue(
        this.queue,
        Buffer.from(JSON.stringify({ pattern, data, id, ...extra })),
        {
          replyTo: 'amq.rabbitmq.reply-to',
          correlationId: id,
          headers:
            envelope === undefined ? {} : { [USER_CONTEXT_HEADER]: envelope },
        },
      );
    });
  }

  async emit(pattern: string, data: unknown, envelope?: unknown) {
    this.channel.sendToQueue(
      this.queue,
      Buffer.from(JSON.stringify({ pattern, data })),
      {
        headers:
          envelope === undefined ? {} : { [USER_CONTEXT_HEADER]: envelope },
      },
    );
  }

  async publishRaw(_pattern: string, bytes: string, envelope?: unknown) {
    this.channel.sendToQueue(this.queue, Buffer.from(bytes), {
      headers:
        envelope === undefined ? {} : { [USER_CONTEXT_HEADER]: envelope },
    });
  }

  async close() {
    await this.channel.close();
    await this.connection.close();
  }
}

class RedisPeer implements RawPeer {
  private readonly pending = new Map<string, (answer: RawAnswer) => void>();

  private constructor(
    private readonly publisher: any,
    private readonly subscriber: any,
    private readonly prefix: string,
  ) {
    subscriber.on('message', (_channel: string, message: string) => {
      const answer = JSON.parse(message) as RawAnswer & { id: string };
      this.pending.get(answer.id)?.(answer);
    });
  }

  static async open(url: string, prefix: string): Promise<RedisPeer> {
    const Redis = require('ioredis');
    const publisher = new Redis(url);
    const subscriber = new Redis(url);
    return new RedisPeer(publisher, subscriber, prefix);
  }

  async request(
    pattern: string,
    data: unknown,
    envelope?: unknown,
    extra: Record<string, unknown> = {},
  ) {
    const id = randomUUID();
    await this.subscriber.subscribe(`${this.prefix}${pattern}.reply`);
    return new Promise<RawAnswer>((resolveAnswer, reject) => {
      const timer = setTimeout(() => reject(timeoutError(pattern)), 5000);
      this.pending.set(id, (answer) => {
        clearTimeout(timer);
        resolveAnswer(answer);
      });
      void this.publisher.publish(
        this.prefix + pattern,
        JSON.stringify(withEnvelope({ pattern, data, id, ...extra }, envelope)),
      );
    });
  }

  async emit(pattern: string, data: unknown, envelope?: unknown) {
    await this.publisher.publish(
      this.prefix + pattern,
      JSON.stringify(withEnvelope({ pattern, data }, envelope)),
    );
  }

  /** Publishes `bytes` as they are: Redis has no headers, so `envelope` is left out. */
  async publishRaw(pattern: string, bytes: string) {
    await this.publisher.publish(this.prefix + pattern, bytes);
  }

  async close() {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}

class GrpcPeer implements RawPeer {
  private constructor(
    private readonly client: any,
    private readonly contract: GrpcServiceContract,
  ) {}

  static async open(
    url: string,
    contract: GrpcServiceContract,
  ): Promise<GrpcPeer> {
    const grpc = require('@grpc/grpc-js');
    const loader = require('@grpc/proto-loader');
    const definition = loader.loadSync(contract.protoPath, {
      keepCase: false,
      defaults: false,
      arrays: true,
    });
    let node = grpc.loadPackageDefinition(definition);
    for (const part of contract.package.split('.')) {
      node = node[part];
    }
    return new GrpcPeer(
      new node[contract.service](url, grpc.credentials.createInsecure()),
      contract,
    );
  }

  request(
    pattern: string,
    data: unknown,
    envelope?: unknown,
  ): Promise<RawAnswer> {
    const route = this.contract.methods[pattern];
    if (!route) {
      throw new Error(`No gRPC method for ${pattern}.`);
    }
    const { Metadata } = require('@grpc/grpc-js');
    const metadata = new Metadata();
    if (envelope !== undefined) {
      metadata.set(USER_CONTEXT_HEADER, String(envelope));
    }
    return new Promise((resolveAnswer) => {
      this.client[route.rpc](
        data,
        metadata,
        { deadline: Date.now() + 5000 },
        (error: unknown, value: any) => {
          if (error) {
            resolveAnswer({ err: fromGrpcError(error) });
          } else {
            resolveAnswer({
              response: route.listField ? value[route.listField] : value,
            });
          }
        },
      );
    });
  }

  async emit(pattern: string, data: unknown, envelope?: unknown) {
    await this.request(pattern, data, envelope);
  }

  async close() {
    this.client.close();
  }
}

/** Subscribes to `subject` on NATS and never replies: a service that hangs. */
export async function subscribeSilently(
  url: string | undefined,
  subject: string,
): Promise<{ close(): Promise<void> }> {
  const { connect } = require('nats');
  const connection = await connect({
    servers: [url || DEFAULT_TRANSPORT_SETTINGS.natsUrl],
  });
  connection.subscribe(subject);
  await connection.flush();
  return { close: () => connection.close() };
}

/** Subscribes to `subject` on NATS and replies to every request with bytes that are not JSON. */
export async function answerWithGarbage(
  url: string | undefined,
  subject: string,
): Promise<{ close(): Promise<void> }> {
  const { connect } = require('nats');
  const connection = await connect({
    servers: [url || DEFAULT_TRANSPORT_SETTINGS.natsUrl],
  });
  connection.subscribe(subject, {
    callback: (_error: unknown, message: { reply?: string }) => {
      if (message.reply) {
        connection.publish(message.reply, '<<not json>>');
      }
    },
  });
  await connection.flush();
  return { close: () => connection.close() };
}

/**
 * Creates a RabbitMQ queue that rejects every message, to use as the `replyTo` of a
 * request, and a way to send such a request without an envelope.
 */
export async function refusingQueue(url: string | undefined, name: string) {
  const amqp = require('amqplib');
  const connection = await amqp.connect(
    url || DEFAULT_TRANSPORT_SETTINGS.rabbitmqUrl,
  );
  const channel = await connection.createChannel();
  await channel.assertQueue(name, {
    durable: false,
    arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
  });
  return {
    async request(queue: string, pattern: string) {
      const packet = { pattern, data: {}, id: randomUUID() };
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(packet)), {
        replyTo: name,
        correlationId: packet.id,
      });
    },
    async close() {
      await channel.deleteQueue(name);
      await connection.close();
    },
  };
}

/** Deletes the RabbitMQ queues of a namespace, so test runs leave no durable queues behind. */
export async function deleteRmqQueues(
  url: string | undefined,
  queues: string[],
): Promise<void> {
  const amqp = require('amqplib');
  const connection = await amqp.connect(
    url || DEFAULT_TRANSPORT_SETTINGS.rabbitmqUrl,
  );
  try {
    const channel = await connection.createChannel();
    for (const queue of queues) {
      await channel.deleteQueue(queue);
    }
  } finally {
    await connection.close();
  }
}
