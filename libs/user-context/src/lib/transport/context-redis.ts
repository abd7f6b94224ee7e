import {
  ClientRedis,
  MessageHandler,
  RedisContext,
  RedisOptions,
  ServerRedis,
} from '@nestjs/microservices';
import { Observable } from 'rxjs';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { USER_CONTEXT_HEADER } from '../user-context.constants';
import {
  attachAsPacketField,
  ContextClientHooks,
  contextHooks,
  emitWithContext,
  sendWithContext,
} from './context-client';
import { EnvelopeGate, isEchoable } from './envelope-gate';
import { runInVerifiedScope } from './propagation';

type RedisClientOptions = Required<RedisOptions>['options'];
type RedisConnection = Parameters<ServerRedis['handleMessage']>[2];

export type ContextRedisClientOptions = RedisClientOptions & {
  codec: ContextEnvelopeCodec;
  /** Name of the service this client calls: the audience of its envelopes. */
  audience?: string;
  /** Prefix of every channel, as in `TransportSettings.namespace`. */
  channelPrefix?: string;
};

/**
 * A `ClientRedis` that adds the caller's signed envelope to every packet as
 * a field beside `pattern` and `data`: Redis pub/sub has no message headers.
 * The server removes the field before Nest dispatches the packet.
 */
export class ContextRedisClient extends ClientRedis {
  private readonly hooks: ContextClientHooks;
  private readonly channelPrefix: string;

  constructor({
    codec,
    audience,
    channelPrefix = '',
    ...options
  }: ContextRedisClientOptions) {
    super(options);
    this.channelPrefix = channelPrefix;
    this.hooks = contextHooks(this, codec, attachAsPacketField, audience);
  }

  override send<TResult = unknown, TInput = unknown>(
    pattern: unknown,
    data: TInput,
  ): Observable<TResult> {
    return sendWithContext<TResult>(this.hooks, pattern, data);
  }

  override emit<TResult = unknown, TInput = unknown>(
    pattern: unknown,
    data: TInput,
  ): Observable<TResult> {
    return emitWithContext<TResult>(this.hooks, pattern, data);
  }

  protected override normalizePattern(pattern: unknown): string {
    return this.channelPrefix + super.normalizePattern(pattern as string);
  }
}

export type ContextRedisServerOptions = RedisClientOptions & {
  /** Prefix of every channel, as in `TransportSettings.namespace`. */
  channelPrefix?: string;
};

/**
 * A `ServerRedis` that takes the envelope field out of every packet and
 * verifies it before Nest dispatches the packet. Redis pub/sub delivers each
 * message to every subscriber, so run one replica per service on Redis.
 */
export class ContextRedisServer extends ServerRedis {
  private readonly gate: EnvelopeGate;
  private readonly channelPrefix: string;

  constructor(
    { channelPrefix = '', ...options }: ContextRedisServerOptions,
    resolveCodec: () => ContextEnvelopeCodec,
  ) {
    super(options);
    this.channelPrefix = channelPrefix;
    this.gate = new EnvelopeGate(ContextRedisServer.name, resolveCodec);
  }

  override addHandler(
    pattern: unknown,
    callback: MessageHandler,
    isEventHandler = false,
    extras: Record<string, unknown> = {},
  ): void {
    const channel =
      this.channelPrefix + this.normalizePattern(pattern as string);
    super.addHandler(
      channel,
      isEventHandler ? this.gate.logFailures(channel, callback) : callback,
      isEventHandler,
      extras,
    );
  }

  override async handleMessage(
    channel: string,
    buffer: string,
    pub: RedisConnection,
    pattern: string,
  ): Promise<unknown> {
    const rawMessage = super.parseMessage(buffer);
    if (
      typeof rawMessage !== 'object' ||
      rawMessage === null ||
      Array.isArray(rawMessage)
    ) {
      this.gate.drop(
        `Dropped a Redis message on ${JSON.stringify(channel)} that is not a JSON object.`,
      );
      return undefined;
    }
    const { [USER_CONTEXT_HEADER]: envelope, ...packet } = rawMessage as Record<
      string,
      unknown
    >;

    const { verified, rejection } = this.gate.check(envelope, channel);
    if (rejection) {
      if (isEchoable(packet.id)) {
        const publish = this.getPublisher(
          pub,
          channel,
          String(packet.id),
          new RedisContext([pattern]),
        );
        publish({ err: rejection, isDisposed: true });
      }
      return undefined;
    }
    // The packet goes on already parsed; parseMessage below passes it through.
    return runInVerifiedScope(verified, () =>
      super.handleMessage(channel, packet as never, pub, pattern),
    );
  }

  override parseMessage(content: unknown): Record<string, unknown> {
    if (
      typeof content === 'object' &&
      content !== null &&
      !Buffer.isBuffer(content)
    ) {
      return content as Record<string, unknown>;
    }
    return super.parseMessage(content);
  }
}
