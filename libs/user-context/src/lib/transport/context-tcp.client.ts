import { ClientTCP, TcpClientOptions } from '@nestjs/microservices';
import { Observable } from 'rxjs';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import {
  attachAsPacketField,
  ContextClientHooks,
  contextHooks,
  emitWithContext,
  sendWithContext,
} from './context-client';

export type ContextTcpClientOptions = NonNullable<
  TcpClientOptions['options']
> & {
  /** Signs the envelope attached to every outgoing message and event. */
  codec: ContextEnvelopeCodec;
  /** Name of the service this client calls: the audience of its envelopes. */
  audience?: string;
};

/**
 * A `ClientTCP` that attaches the current user's signed envelope to every
 * packet as a top-level field, beside `pattern` and `data`, so `@Payload()`
 * on the other side is exactly what the caller passed.
 *
 * Register it with `registerContextClients()`, or by hand with
 * `ClientsModule` through `customClass`:
 *
 * @example
 * ClientsModule.registerAsync([{
 *   name: ORDERS_CLIENT,
 *   inject: [ContextEnvelopeCodec],
 *   useFactory: (codec: ContextEnvelopeCodec) => ({
 *     customClass: ContextTcpClient,
 *     options: { host: '127.0.0.1', port: 3001, codec },
 *   }),
 * }])
 */
export class ContextTcpClient extends ClientTCP {
  private readonly hooks: ContextClientHooks;

  constructor(options: ContextTcpClientOptions) {
    super(options);
    this.hooks = contextHooks(
      this,
      options.codec,
      attachAsPacketField,
      options.audience,
    );
  }

  /** See `sendWithContext`: signed in the caller's scope, response bound to the caller. */
  override send<TResult = unknown, TInput = unknown>(
    pattern: unknown,
    data: TInput,
  ): Observable<TResult> {
    return sendWithContext<TResult>(this.hooks, pattern, data);
  }

  /** See `emitWithContext`: hot, and signed in the caller's scope. */
  override emit<TResult = unknown, TInput = unknown>(
    pattern: unknown,
    data: TInput,
  ): Observable<TResult> {
    return emitWithContext<TResult>(this.hooks, pattern, data);
  }

  /**
   * Disables Nagle's algorithm: requests share one socket, and with Nagle on
   * a small write can wait for the ACK of the previous one, which a peer
   * using delayed ACKs may hold back for up to 40 ms on Linux.
   */
  override createSocket(): ReturnType<ClientTCP['createSocket']> {
    const socket = super.createSocket();
    socket.netSocket.setNoDelay(true);
    return socket;
  }
}
