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
import { EmptyResponseException } from '@nestjs/microservices/errors/empty-response.exception';
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

  constructor({ codec, audience, subjectPrefix = '', ...options }: ContextNatsClientOptions) {
    super(options);
    this.subjectPrefix = subjectPrefix;
    // Loaded here, not at the top of the file, so that apps on other
    // transports need not install the `nats` package.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { headers: createHeaders } = require('nats') as { headers(): NatsHeaders };
    this.hooks = contextHooks(
      this,
      codec,
      (packet, envelope) => {
        const headers = createHeaders();
        headers.set(USER_CONTEXT_HEADER, envelope);
        return { ...packet, data: new NatsRecord(packet.data, headers) } as ReadPacket;
      },
      audience,
    );
    const publish = this.hooks.publish;
    this.hooks.publish = (packet, callback) =>
      publish(packet, (response) => callback(withNoResponders(response, packet)));
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

/**
 * Turns NATS's "no responders" status, which Nest reports as an empty
 * response, into `ServiceUnreachableError`: the server tells at once that no
 * subscriber listens on the subject, so the caller need not wait for its
 * timeout. Nest's own replies are never empty.
 */
function withNoResponders(response: WritePacket, packet: ReadPacket): WritePacket {
  if (!(response.err instanceof EmptyResponseException)) {
    return response;
  }
  const subject = JSON.stringify(packet.pattern);
  return {
    ...response,
    err: new ServiceUnreachableError(`No service listens on NATS subject ${subject}.`),
  };
}

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
    const subject = this.subjectPrefix + this.normalizePattern(pattern as string);
    super.addHandler(
      subject,
      isEventHandler ? this.gate.logFailures(subject, callback) : callback,
      isEventHandler,
      extras,
    );
  }

  override async handleMessage(channel: string, natsMsg: NatsMessage): Promise<unknown> {
    try {
      const envelope = natsMsg.headers?.get(USER_CONTEXT_HEADER) || undefined;
      const { verified, rejection } = this.gate.check(envelope, channel);
      if (!rejection) {
        return await runInVerifiedScope(verified, () => super.handleMessage(channel, natsMsg));
      }
      if (natsMsg.reply) {
        const { id } = (await this.deserializer.deserialize(natsMsg.data, { channel })) as {
          id?: unknown;
        };
        if (isEchoable(id)) {
          const context = new NatsContext([channel, natsMsg.headers as never]);
          this.getPublisher(natsMsg, String(id), context)({ err: rejection, isDisposed: true });
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
