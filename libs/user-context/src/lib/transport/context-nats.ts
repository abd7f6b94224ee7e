import {
  ClientNats,
  MessageHandler,
  NatsContext,
  NatsOptions,
  NatsRecord,
  ReadPacket,
  ServerNats,
  WritePacket,
} from '@nestjs/microservices';
import { Logger } from '@nestjs/common';
import { Observable } from 'rxjs';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { USER_CONTEXT_HEADER } from '../user-context.constants';
import {
  ContextClientHooks,
  contextHooks,
  emitWithContext,
  sendWithContext,
  ServiceUnreachableError,
} from './context-client';
import { EnvelopeGate, isEchoable } from './envelope-gate';
import { runInVerifiedScope } from './propagation';

type NatsClientOptions = Required<NatsOptions>['options'];

interface NatsHeaders {
  get(name: string): string;
  set(name: string, value: string): void;
}

/** Status that the NATS server puts on the empty reply to a request that no subscriber takes. */
const NO_RESPONDERS_STATUS = 503;

interface NatsReply {
  data: Uint8Array;
  headers?: { code?: number };
}

interface NatsMessage {
  data: Uint8Array;
  reply?: string;
  headers?: NatsHeaders;
}

export type ContextNatsClientOptions = NatsClientOptions & {
  codec: ContextEnvelopeCodec;
  /** Name of the service this client calls: the audience of its envelopes. */
  audience?: string;
  /** Prefix of every subject, as in `TransportSettings.namespace`. */
  subjectPrefix?: string;
};

/**
 * A `ClientNats` that sends the caller's signed envelope as a NATS message
 * header, so the payload is exactly what the caller passed.
 */
export class ContextNatsClient extends ClientNats {
  private readonly hooks: ContextClientHooks;
  private readonly subjectPrefix: string;
  private readonly contextLogger = new Logger(ContextNatsClient.name);

  constructor({
    codec,
    audience,
    subjectPrefix = '',
    ...options
  }: ContextNatsClientOptions) {
    super(options);
    this.subjectPrefix = subjectPrefix;
    // Loaded here, not at the top of the file, so that apps on other
    // transports need not install the `nats` package.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { headers: createHeaders } = require('nats') as {
      headers(): NatsHeaders;
    };
    this.hooks = contextHooks(
      this,
      codec,
      (packet, envelope) => {
        const headers = createHeaders();
        headers.set(USER_CONTEXT_HEADER, envelope);
        return {
          ...packet,
          data: new NatsRecord(packet.data, headers),
        } as ReadPacket;
      },
      audience,
    );
  }

  /**
   * Same as `ClientNats.createSubscriptionHandler`, with two differences. A
   * reply that is not JSON is dropped and logged: anyone who can publish on
   * the broker can reach a reply inbox, and Nest's handler threw on such a
   * reply where no caller catches it, which ended the process. And an empty
   * reply counts as "no responders" only when NATS marks it with status 503.
   */
  override createSubscriptionHandler(
    packet: Parameters<ClientNats['createSubscriptionHandler']>[0],
    callback: (packet: WritePacket) => unknown,
  ): ReturnType<ClientNats['createSubscriptionHandler']> {
    const handle = super.createSubscriptionHandler(packet, callback);
    return async (error, message) => {
      const natsMsg = message as NatsReply | undefined;
      if (!error && natsMsg?.data?.length === 0) {
        if (natsMsg.headers?.code === NO_RESPONDERS_STATUS) {
          const subject = JSON.stringify(packet.pattern);
          callback({
            err: new ServiceUnreachableError(
              `No service listens on NATS subject ${subject}.`,
            ),
            isDisposed: true,
          });
        }
        return undefined;
      }
      try {
        return await handle(error, message);
      } catch (readError) {
        this.contextLogger.warn(
          `Dropped an unreadable NATS reply: ${String(readError)}`,
        );
        return undefined;
      }
    };
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
    return this.subjectPrefix + super.normalizePattern(pattern as string);
  }
}

/** The error a caller gets when its reply could not be sent. */
const REPLY_FAILED = {
  statusCode: 500,
  message:
    'The response could not be sent: it is larger than the transport allows.',
  error: 'Internal Server Error',
};

export type ContextNatsServerOptions = NatsClientOptions & {
  /** Prefix of every subject, as in `TransportSettings.namespace`. */
  subjectPrefix?: string;
};

/**
 * A `ServerNats` that reads the envelope from the message's
 * `x-user-context` header and verifies it before Nest dispatches the message.
 * Subscriptions join the queue group named in `queue`, so replicas of a
 * service share its requests and events: each message goes to one of them.
 */
export class ContextNatsServer extends ServerNats {
  private readonly gate: EnvelopeGate;
  private readonly subjectPrefix: string;

  constructor(
    { subjectPrefix = '', ...options }: ContextNatsServerOptions,
    resolveCodec: () => ContextEnvelopeCodec,
  ) {
    super(options);
    this.subjectPrefix = subjectPrefix;
    this.gate = new EnvelopeGate(ContextNatsServer.name, resolveCodec);
  }

  override addHandler(
    pattern: unknown,
    callback: MessageHandler,
    isEventHandler = false,
    extras: Record<string, unknown> = {},
  ): void {
    const subject =
      this.subjectPrefix + this.normalizePattern(pattern as string);
    super.addHandler(
      subject,
      isEventHandler ? this.gate.logFailures(subject, callback) : callback,
      isEventHandler,
      extras,
    );
  }

  /**
   * Same as `ServerNats.getPublisher`, but a reply that NATS refuses (over
   * the server's max_payload, 1 MiB by default) becomes a 500 error reply
   * instead of an exception thrown inside Nest's reply stream, which no
   * caller catches and which ended the process.
   */
  override getPublisher(
    natsMsg: NatsMessage,
    id: string,
    context: NatsContext,
  ): (response: unknown) => unknown {
    const publish = super.getPublisher(natsMsg, id, context);
    return (response) => {
      try {
        return publish(response);
      } catch (error) {
        this.gate.drop(`Could not send a reply on NATS: ${String(error)}`);
        try {
          return publish({ err: REPLY_FAILED, isDisposed: true });
        } catch {
          return undefined;
        }
      }
    };
  }

  override async handleMessage(
    channel: string,
    natsMsg: NatsMessage,
  ): Promise<unknown> {
    try {
      const envelope = natsMsg.headers?.get(USER_CONTEXT_HEADER) || undefined;
      const { verified, rejection } = this.gate.check(envelope, channel);
      if (!rejection) {
        return await runInVerifiedScope(verified, () =>
          super.handleMessage(channel, natsMsg),
        );
      }
      if (natsMsg.reply) {
        const { id } = (await this.deserializer.deserialize(natsMsg.data, {
          channel,
        })) as {
          id?: unknown;
        };
        if (isEchoable(id)) {
          const context = new NatsContext([channel, natsMsg.headers as never]);
          this.getPublisher(
            natsMsg,
            String(id),
            context,
          )({ err: rejection, isDisposed: true });
        }
      }
    } catch (error) {
      // A message that is not JSON would otherwise reject this promise, which
      // no caller awaits: an unhandled rejection ends the process.
      this.gate.drop(
        `Dropped an unreadable NATS message on ${JSON.stringify(channel)}: ${String(error)}`,
      );
    }
    return undefined;
  }
}
