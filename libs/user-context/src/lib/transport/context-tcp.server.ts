import { MessageHandler, ServerTCP, TcpOptions } from '@nestjs/microservices';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { USER_CONTEXT_HEADER } from '../user-context.constants';
import { EnvelopeGate, isEchoable } from './envelope-gate';
import { runInVerifiedScope } from './propagation';

type TcpSocketLike = Parameters<ServerTCP['handleMessage']>[0];

/**
 * A `ServerTCP` that verifies the envelope of every incoming packet before
 * Nest dispatches it. A packet whose envelope is missing or invalid never reaches
 * a guard or a handler: a request gets an error with `statusCode: 401`, an
 * event is dropped and logged. A valid packet is handled in a fresh scope
 * holding its user and request id, with the envelope field removed.
 */
export class ContextTcpServer extends ServerTCP {
  private readonly gate: EnvelopeGate;

  /** @param resolveCodec see `EnvelopeGate`. */
  constructor(
    options: NonNullable<TcpOptions['options']>,
    resolveCodec: () => ContextEnvelopeCodec,
  ) {
    super(options);
    this.gate = new EnvelopeGate(ContextTcpServer.name, resolveCodec);
  }

  /** Disables Nagle's algorithm on accepted sockets, for the reason given on `ContextTcpClient`. */
  override bindHandler(socket: Parameters<ServerTCP['bindHandler']>[0]): void {
    if (typeof socket.setNoDelay === 'function') {
      socket.setNoDelay(true);
    }
    super.bindHandler(socket);
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
   * Same result as `Server.getRouteFromPattern`, which runs `JSON.parse` on
   * every pattern and catches the exception that plain string patterns throw.
   * Only object patterns are serialized as JSON, and they start with `{`.
   */
  override getRouteFromPattern(pattern: string): string {
    return pattern.startsWith('{')
      ? super.getRouteFromPattern(pattern)
      : pattern;
  }

  override async handleMessage(
    socket: TcpSocketLike,
    rawMessage: unknown,
  ): Promise<unknown> {
    if (
      typeof rawMessage !== 'object' ||
      rawMessage === null ||
      Array.isArray(rawMessage)
    ) {
      this.gate.drop('Dropped a TCP message that is not a JSON object.');
      return undefined;
    }
    const { [USER_CONTEXT_HEADER]: envelope, ...packet } = rawMessage as Record<
      string,
      unknown
    >;

    const { verified, rejection } = this.gate.check(envelope, packet.pattern);
    if (rejection) {
      // Only an id the peer could match a reply to gets one; anything else gets silence.
      if (isEchoable(packet.id)) {
        socket.sendMessage(
          this.serializer.serialize({
            id: packet.id as string,
            err: rejection,
            isDisposed: true,
          }),
        );
      }
      return undefined;
    }
    return runInVerifiedScope(verified, () =>
      super.handleMessage(socket, packet),
    );
  }
}
