import { ReadPacket, WritePacket } from '@nestjs/microservices';
import { AsyncResource } from 'node:async_hooks';
import {
  connectable,
  defer,
  mergeMap,
  Observable,
  Subject,
  throwError,
} from 'rxjs';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { USER_CONTEXT_HEADER } from '../user-context.constants';
import { signCurrentUser } from './propagation';

/**
 * The parts of a `ClientProxy` subclass that `sendWithContext` and
 * `emitWithContext` use. Its protected methods are handed over as closures,
 * so one implementation serves every transport's client.
 */
export interface ContextClientHooks {
  codec: ContextEnvelopeCodec;
  /** Name of the service the client calls, written into each envelope as its audience. */
  audience?: string;
  connect(): Promise<unknown>;
  /** `ClientProxy.publish` with the envelope already attached by `attach`. */
  publish(
    packet: ReadPacket,
    callback: (packet: WritePacket) => void,
  ): () => void;
  /** `ClientProxy.dispatchEvent` with the envelope already attached by `attach`. */
  dispatchEvent(packet: ReadPacket): Promise<unknown>;
  createObserver<T>(observer: {
    next(value: T): void;
    error(error: unknown): void;
    complete(): void;
  }): (packet: WritePacket) => void;
  /**
   * Puts the envelope where the transport carries it: a header, message
   * metadata, or a packet field beside `pattern` and `data`.
   */
  attach(packet: ReadPacket, envelope: string): ReadPacket;
}

/**
 * Raised on the calling side when the transport reports that no service is
 * there to take a request: a gRPC channel in UNAVAILABLE state, or a NATS
 * subject with no subscriber. `ServiceClient` maps it to 503.
 */
export class ServiceUnreachableError extends Error {
  readonly code = 'UNAVAILABLE';

  constructor(message: string) {
    super(message);
    this.name = 'ServiceUnreachableError';
  }
}

/** The protected `ClientProxy` methods that `contextHooks` hands over. */
interface ClientInternals {
  connect(): Promise<unknown>;
  publish: ContextClientHooks['publish'];
  dispatchEvent: ContextClientHooks['dispatchEvent'];
  createObserver: ContextClientHooks['createObserver'];
}

/**
 * Builds the hooks of `client`, a `ClientProxy` subclass. Call it from the subclass's
 * constructor: TypeScript lets only the class reach its protected methods,
 * and they are public at run time.
 */
export function contextHooks(
  client: object,
  codec: ContextEnvelopeCodec,
  attach: ContextClientHooks['attach'],
  audience?: string,
): ContextClientHooks {
  const internals = client as unknown as ClientInternals;
  return {
    codec,
    audience,
    attach,
    connect: () => internals.connect(),
    publish: (packet, callback) => internals.publish(packet, callback),
    dispatchEvent: (packet) => internals.dispatchEvent(packet),
    createObserver: (observer) => internals.createObserver(observer),
  };
}

/**
 * `attach` for transports without message headers (TCP, Redis): the envelope
 * becomes a packet field beside `pattern` and `data`, which the server
 * removes before Nest dispatches the packet.
 */
export function attachAsPacketField(
  packet: ReadPacket,
  envelope: string,
): ReadPacket {
  return { ...packet, [USER_CONTEXT_HEADER]: envelope } as ReadPacket;
}

/**
 * Same contract as `ClientProxy.send`, with two differences: the envelope is
 * signed when `send()` is called, in the caller's scope, and `null` is an
 * allowed payload. The response callback is bound to the caller's async
 * context: a transport's socket or subscription keeps the context of
 * whichever request opened it, and operators after `send()` would otherwise
 * see that request's user.
 */
export function sendWithContext<TResult>(
  hooks: ContextClientHooks,
  pattern: unknown,
  data: unknown,
): Observable<TResult> {
  let envelope: string;
  try {
    envelope = signFor('send', hooks.codec, pattern, data, hooks.audience);
  } catch (error) {
    return throwError(() => error);
  }

  return defer(async () => hooks.connect()).pipe(
    mergeMap(
      () =>
        new Observable<TResult>((observer) => {
          // An AsyncResource per call rather than AsyncResource.bind, which
          // on Node 20 also builds a deprecation wrapper on every call.
          const resource = new AsyncResource('UserContextClient.response');
          const observe = hooks.createObserver(observer);
          const callback = (packet: WritePacket) =>
            resource.runInAsyncScope(observe, null, packet);
          return hooks.publish(
            hooks.attach({ pattern, data }, envelope),
            callback,
          );
        }),
    ),
  );
}

/** Same contract as `ClientProxy.emit`: hot, and signed in the caller's scope. */
export function emitWithContext<TResult>(
  hooks: ContextClientHooks,
  pattern: unknown,
  data: unknown,
): Observable<TResult> {
  let envelope: string;
  try {
    envelope = signFor('emit', hooks.codec, pattern, data, hooks.audience);
  } catch (error) {
    return throwError(() => error);
  }

  const source = defer(async () => hooks.connect()).pipe(
    mergeMap(() =>
      hooks.dispatchEvent(hooks.attach({ pattern, data }, envelope)),
    ),
  );
  const hot = connectable(source, {
    connector: () => new Subject(),
    resetOnDisconnect: false,
  });
  hot.connect();
  return hot as Observable<TResult>;
}

/** Checks the arguments and signs the current user; throws when either is missing. */
export function signFor(
  method: 'send' | 'emit',
  codec: ContextEnvelopeCodec,
  pattern: unknown,
  data: unknown,
  audience?: string,
): string {
  if (pattern === undefined || pattern === null || data === undefined) {
    throw new Error(`${method}() needs a pattern and JSON data.`);
  }
  return signCurrentUser(codec, audience);
}
