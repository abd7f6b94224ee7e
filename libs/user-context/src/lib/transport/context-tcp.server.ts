import { Logger } from '@nestjs/common';
import { ServerTCP, TcpOptions } from '@nestjs/microservices';

import { ContextEnvelopeCodec, VerifiedEnvelope } from '../envelope/context-envelope.codec';
import { ContextEnvelopeError } from '../envelope/context-envelope.error';
import { toRpcErrorBody } from '../errors/rpc-error';
import { USER_CONTEXT_HEADER } from '../user-context.constants';
import { runInVerifiedScope } from './propagation';

type TcpSocketLike = Parameters<ServerTCP['handleMessage']>[0];

/**
 * A `ServerTCP` that verifies the envelope of every incoming packet before
 * Nest sees it. A packet whose envelope is missing or invalid never reaches
 * a guard or a handler: a request gets an error with `statusCode: 401`, an
 * event is dropped and logged. A valid packet is handled in a fresh scope
 * holding its user and request id, with the envelope field removed.
 */
export class ContextTcpServer extends ServerTCP {
  private readonly contextLogger = new Logger(ContextTcpServer.name);

  /**
   * @param resolveCodec returns the codec that verifies envelopes. A function,
   *   because the codec comes from the application's DI container, which
   *   exists only after the strategy has been handed to Nest.
   */
  constructor(
    options: NonNullable<TcpOptions['options']>,
    private readonly resolveCodec: () => ContextEnvelopeCodec,
  ) {
    super(options);
  }

  override async handleMessage(socket: TcpSocketLike, rawMessage: unknown): Promise<unknown> {
    if (typeof rawMessage !== 'object' || rawMessage === null || Array.isArray(rawMessage)) {
      this.contextLogger.warn('Dropped a TCP message that is not a JSON object.');
      return undefined;
    }
    const { [USER_CONTEXT_HEADER]: envelope, ...packet } = rawMessage as Record<string, unknown>;

    let verified: VerifiedEnvelope;
    try {
      verified = this.resolveCodec().verify(envelope);
    } catch (error) {
      return this.reject(socket, packet, error);
    }
    return runInVerifiedScope(verified, () => super.handleMessage(socket, packet));
  }

  private reject(socket: TcpSocketLike, packet: Record<string, unknown>, error: unknown): void {
    const reason = error instanceof ContextEnvelopeError ? error.reason : 'error';
    const pattern = (JSON.stringify(packet.pattern) ?? 'undefined').slice(0, 100);
    this.contextLogger.warn(`Rejected message ${pattern}: envelope ${reason}.`);

    if (packet.id === undefined) {
      return;
    }
    const body = toRpcErrorBody(error);
    socket.sendMessage(this.serializer.serialize({ id: packet.id as string, err: body, isDisposed: true }));
  }
}
