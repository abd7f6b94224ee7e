import {
  ClientRMQ,
  MessageHandler,
  ReadPacket,
  RmqContext,
  RmqOptions,
  RmqRecord,
  ServerRMQ,
} from '@nestjs/microservices';
import { Observable } from 'rxjs';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { USER_CONTEXT_HEADER } from '../user-context.constants';
import {
  ContextClientHooks,
  contextHooks,
  emitWithContext,
  sendWithContext,
} from './context-client';
import { EnvelopeGate, isEchoable } from './envelope-gate';
import { runInVerifiedScope } from './propagation';

type RmqClientOptions = Required<RmqOptions>['options'];

interface RmqChannel {
  sendToQueue(queue: string, content: Buffer, options?: unknown): unknown;
}

interface RmqMessage {
  content: Buffer;
  properties: {
    headers?: Record<string, unknown>;
    replyTo?: string;
    correlationId?: string;
  };
}

export type ContextRmqClientOptions = RmqClientOptions & {
  codec: ContextEnvelopeCodec;
  /** Name of the service this client calls: the audience of its envelopes. */
  audience?: string;
  /**
   * Milliseconds a request may wait in the queue. Set it to the caller's
   * timeout: a request still queued when the caller has given up (its
   * service was down) then expires, instead of running later, such as an
   * order created after the client received 503. Events never expire.
   */
  requestTtlMs?: number;
};

/**
 * A `ClientRMQ` that sends the caller's signed envelope as an AMQP message
 * header, so the payload is exactly what the caller passed.
 */
export class ContextRmqClient extends ClientRMQ {
  private readonly hooks: ContextClientHooks;
  private readonly requestHooks: ContextClientHooks;

  constructor({
    codec,
    audience,
    requestTtlMs,
    ...options
  }: ContextRmqClientOptions) {
    super(options);
    const attach =
      (expiration?: string) => (packet: ReadPacket, envelope: string) =>
        ({
          ...packet,
          data: new RmqRecord(packet.data, {
            headers: { [USER_CONTEXT_HEADER]: envelope },
            ...(expiration === undefined ? {} : { expiration }),
          }),
        }) as ReadPacket;
    this.hooks = contextHooks(this, codec, attach(), audience);
    this.requestHooks = {
      ...this.hooks,
      attach: attach(
        requestTtlMs === undefined ? undefined : String(requestTtlMs),
      ),
    };
  }

  override send<TResult = unknown, TInput = unknown>(
    pattern: unknown,
    data: TInput,
  ): Observable<TResult> {
    return sendWithContext<TResult>(this.requestHooks, pattern, data);
  }

  override emit<TResult = unknown, TInput = unknown>(
    pattern: unknown,
    data: TInput,
  ): Observable<TResult> {
    return emitWithContext<TResult>(this.hooks, pattern, data);
  }
}

/**
 * A `ServerRMQ` that reads the envelope from the message's
 * `x-user-context` header and verifies it before Nest dispatches the
 * message. Replicas that consume the same queue share its messages: RabbitMQ
 * hands each one to a single consumer.
 */
export class ContextRmqServer extends ServerRMQ {
  private readonly gate: EnvelopeGate;

  constructor(
    options: RmqClientOptions,
    resolveCodec: () => ContextEnvelopeCodec,
  ) {
    super(options);
    this.gate = new EnvelopeGate(ContextRmqServer.name, resolveCodec);
  }

  override addHandler(
    pattern: unknown,
    callback: MessageHandler,
    isEventHandler = false,
    extras: Record<string, unknown> = {},
  ): void {
    const route = this.normalizePattern(pattern as string);
    super.addHandler(
      pattern,
      isEventHandler ? this.gate.logFailures(route, callback) : callback,
      isEventHandler,
      extras,
    );
  }

  /**
   * Same as `ServerRMQ.sendMessage`, but a reply the broker refuses (a
   * `replyTo` queue that rejects messages, say) is logged. Nest drops the
   * promise of the send, so its rejection went unhandled and ended the
   * process: one message with a hostile `replyTo` took a service down.
   */
  override sendMessage<T = unknown>(
    message: T,
    replyTo: string,
    correlationId: string,
    context: RmqContext,
  ): void {
    const outgoing = this.serializer.serialize(message as never) as Record<
      string,
      unknown
    >;
    const options = outgoing.options as Record<string, unknown> | undefined;
    delete outgoing.options;
    this.onProcessingEndHook?.(this.transportId, context);
    const channel = this.channel as unknown as RmqChannel;
    const sent = channel.sendToQueue(
      replyTo,
      Buffer.from(JSON.stringify(outgoing)),
      {
        correlationId,
        ...options,
      },
    );
    Promise.resolve(sent).catch((error: unknown) =>
      this.gate.drop(
        `Could not send a reply to ${JSON.stringify(replyTo)}: ${String(error)}`,
      ),
    );
  }

  override async handleMessage(
    raw: Record<string, unknown> | null,
    channel: unknown,
  ): Promise<void> {
    if (!raw) {
      return;
    }
    const message = raw as unknown as RmqMessage;
    const envelope = message.properties.headers?.[USER_CONTEXT_HEADER];
    const packet = parseJson(message.content);
    const { verified, rejection } = this.gate.check(
      typeof envelope === 'string' ? envelope : undefined,
      packet?.pattern,
    );
    if (!rejection) {
      return runInVerifiedScope(verified, () =>
        super.handleMessage(raw, channel),
      );
    }
    const { replyTo, correlationId } = message.properties;
    if (replyTo && correlationId && isEchoable(packet?.id)) {
      const context = new RmqContext([
        message as never,
        channel,
        String(packet?.pattern),
      ]);
      this.sendMessage(
        { id: packet?.id, err: rejection, isDisposed: true },
        replyTo,
        correlationId,
        context,
      );
    }
  }
}

function parseJson(content: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(content.toString());
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
