import { ClientTCP, ReadPacket, TcpClientOptions, WritePacket } from '@nestjs/microservices';
import { AsyncResource } from 'node:async_hooks';
import { connectable, defer, mergeMap, Observable, Subject, throwError } from 'rxjs';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { USER_CONTEXT_HEADER } from '../user-context.constants';
import { signCurrentUser } from './propagation';

export type ContextTcpClientOptions = NonNullable<TcpClientOptions['options']> & {
  /** Signs the envelope attached to every outgoing message and event. */
  codec: ContextEnvelopeCodec;
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
  private readonly codec: ContextEnvelopeCodec;

  constructor(options: ContextTcpClientOptions) {
    super(options);
    this.codec = options.codec;
  }

  /**
   * Same contract as `ClientProxy.send`, with two differences: the envelope
   * is signed when `send()` is called, in the caller's scope, and `null` is
   * an allowed payload. The response callback is bound to the caller's async
   * context: the socket's listeners keep the context of whichever request
   * opened the connection, and operators after `send()` would otherwise see
   * that request's user.
   */
  override send<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    let envelope: string;
    try {
      envelope = this.signFor('send', pattern, data);
    } catch (error) {
      return throwError(() => error);
    }

    return defer(async () => this.connect()).pipe(
      mergeMap(
        () =>
          new Observable<TResult>((observer) => {
            // An AsyncResource per call rather than AsyncResource.bind, which
            // on Node 20 also builds a deprecation wrapper on every call.
            const resource = new AsyncResource('ContextTcpClient.response');
            const observe = this.createObserver(observer);
            const callback = (packet: WritePacket) => resource.runInAsyncScope(observe, null, packet);
            return this.publish(this.withEnvelope({ pattern, data }, envelope), callback);
          }),
      ),
    );
  }

  /** Same contract as `ClientProxy.emit`: hot, and signed in the caller's scope. */
  override emit<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    let envelope: string;
    try {
      envelope = this.signFor('emit', pattern, data);
    } catch (error) {
      return throwError(() => error);
    }

    const source = defer(async () => this.connect()).pipe(
      mergeMap(() => this.dispatchEvent(this.withEnvelope({ pattern, data }, envelope))),
    );
    const hot = connectable(source, { connector: () => new Subject(), resetOnDisconnect: false });
    hot.connect();
    return hot as Observable<TResult>;
  }

  /** Checks the arguments and signs the current user; throws when either is missing. */
  private signFor(method: 'send' | 'emit', pattern: unknown, data: unknown): string {
    if (pattern === undefined || pattern === null || data === undefined) {
      throw new Error(`${method}() needs a pattern and JSON data.`);
    }
    return signCurrentUser(this.codec);
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

  private withEnvelope(packet: ReadPacket, envelope: string): ReadPacket {
    return { ...packet, [USER_CONTEXT_HEADER]: envelope } as ReadPacket;
  }
}
