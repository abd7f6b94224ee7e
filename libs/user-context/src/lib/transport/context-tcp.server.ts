import { Logger } from '@nestjs/common';
import { BaseRpcContext, ReadPacket, ServerTCP, TcpOptions } from '@nestjs/microservices';
import { finalize, isObservable, of } from 'rxjs';

import { ContextEnvelopeCodec, VerifiedEnvelope } from '../envelope/context-envelope.codec';
import { ContextEnvelopeError } from '../envelope/context-envelope.error';
import { isRpcErrorBody, toRpcErrorBody } from '../errors/rpc-error';
import { USER_CONTEXT_HEADER } from '../user-context.constants';
import { runInVerifiedScope } from './propagation';
import { WarningThrottle } from './warning-throttle';

type TcpSocketLike = Parameters<ServerTCP['handleMessage']>[0];

/** Maximum length of a pattern or packet id echoed into a log line or a reply. */
const MAX_ECHOED_LENGTH = 200;

/**
 * A `ServerTCP` that verifies the envelope of every incoming packet before
 * Nest dispatches it. A packet whose envelope is missing or invalid never reaches
 * a guard or a handler: a request gets an error with `statusCode: 401`, an
 * event is dropped and logged. A valid packet is handled in a fresh scope
 * holding its user and request id, with the envelope field removed.
 */
export class ContextTcpServer extends ServerTCP {
  private readonly contextLogger = new Logger(ContextTcpServer.name);
  private readonly rejections = new WarningThrottle(this.contextLogger);

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

  /** Disables Nagle's algorithm on accepted sockets, for the reason given on `ContextTcpClient`. */
  override bindHandler(socket: Parameters<ServerTCP['bindHandler']>[0]): void {
    if (typeof socket.setNoDelay === 'function') {
      socket.setNoDelay(true);
    }
    super.bindHandler(socket);
  }

  /**
   * Same result as `Server.getRouteFromPattern`, which runs `JSON.parse` on
   * every pattern and catches the exception that plain string patterns throw.
   * Only object patterns are serialized as JSON, and they start with `{`.
   */
  override getRouteFromPattern(pattern: string): string {
    return pattern.startsWith('{') ? super.getRouteFromPattern(pattern) : pattern;
  }

  override async handleMessage(socket: TcpSocketLike, rawMessage: unknown): Promise<unknown> {
    if (typeof rawMessage !== 'object' || rawMessage === null || Array.isArray(rawMessage)) {
      this.rejections.warn('Dropped a TCP message that is not a JSON object.');
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

  /**
   * Same as `Server.handleEvent`, but logs a handler's failure: an event has
   * no caller to receive the error, so without this line a rejected event
   * (invalid payload, missing permission) would vanish without a trace.
   */
  override async handleEvent(
    pattern: string,
    packet: ReadPacket,
    context: BaseRpcContext,
  ): Promise<unknown> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) {
      return super.handleEvent(pattern, packet, context);
    }
    return this.onProcessingStartHook(this.transportId as symbol, context, async () => {
      const result = await handler(packet.data, context);
      const stream = isObservable(result) ? result : of(result);
      stream
        .pipe(finalize(() => this.onProcessingEndHook?.(this.transportId as symbol, context)))
        .subscribe({ error: (error: unknown) => this.logEventFailure(pattern, error) });
    });
  }

  private reject(socket: TcpSocketLike, packet: Record<string, unknown>, error: unknown): void {
    const reason = error instanceof ContextEnvelopeError ? error.reason : 'error';
    this.rejections.warn(`Rejected message ${echo(packet.pattern)}: envelope ${reason}.`);

    const id = packet.id;
    if (id === undefined) {
      return;
    }
    if (!isEchoable(id)) {
      // Nothing the peer could match a reply to; it only gets silence.
      return;
    }
    const body = toRpcErrorBody(error);
    socket.sendMessage(this.serializer.serialize({ id: id as string, err: body, isDisposed: true }));
  }

  private logEventFailure(pattern: string, error: unknown): void {
    const detail = isRpcErrorBody(error)
      ? `${error.statusCode} ${[error.message].flat().join('; ')}`
      : String(error);
    this.contextLogger.warn(`Event ${echo(pattern)} failed: ${detail}`);
  }
}

/** Only short strings and numbers are echoed, so a hostile packet cannot bloat a log line or a reply. */
function isEchoable(value: unknown): value is string | number {
  return (
    (typeof value === 'string' && value.length <= MAX_ECHOED_LENGTH) ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function echo(value: unknown): string {
  return isEchoable(value) ? JSON.stringify(value) : `(${typeof value} pattern)`;
}
