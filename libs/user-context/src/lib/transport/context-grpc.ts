import { HttpStatus } from '@nestjs/common';
import {
  ClientGrpcProxy,
  GrpcMethodStreamingType,
  MessageHandler,
  ServerGrpc,
} from '@nestjs/microservices';
import { AsyncResource } from 'node:async_hooks';
import {
  connectable,
  defaultIfEmpty,
  last,
  map,
  Observable,
  Subject,
  throwError,
} from 'rxjs';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { isRpcErrorBody, RpcErrorBody } from '../errors/rpc-error';
import { USER_CONTEXT_HEADER } from '../user-context.constants';
import { ServiceUnreachableError, signFor } from './context-client';
import { EnvelopeGate } from './envelope-gate';
import { runInVerifiedScope } from './propagation';
import { GrpcMethodRoute, GrpcServiceContract } from './transport-settings';

/** Trailing metadata key that carries the whole error body, validation messages included. */
export const GRPC_ERROR_BODY_KEY = 'x-error-body';

/** Largest message either side accepts: Nest's own limit is 4 MiB. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Loader options that map `.proto` messages to JavaScript: `order_id` becomes `orderId`,
 * unset fields stay absent instead of turning into `''` or `0`, and empty
 * repeated fields are `[]`. No `oneofs`: it would add a virtual `_orderId`
 * field for every proto3 `optional`, which the services' whitelisting DTOs
 * reject.
 */
const LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: false,
  arrays: true,
};

/** gRPC status codes used here, from the gRPC specification. */
export const GrpcStatus = {
  OK: 0,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const STATUS_BY_HTTP: Record<number, number> = {
  [HttpStatus.BAD_REQUEST]: GrpcStatus.INVALID_ARGUMENT,
  [HttpStatus.UNAUTHORIZED]: GrpcStatus.UNAUTHENTICATED,
  [HttpStatus.FORBIDDEN]: GrpcStatus.PERMISSION_DENIED,
  [HttpStatus.NOT_FOUND]: GrpcStatus.NOT_FOUND,
  [HttpStatus.CONFLICT]: GrpcStatus.ALREADY_EXISTS,
  [HttpStatus.PRECONDITION_FAILED]: GrpcStatus.FAILED_PRECONDITION,
  [HttpStatus.TOO_MANY_REQUESTS]: GrpcStatus.RESOURCE_EXHAUSTED,
  [HttpStatus.NOT_IMPLEMENTED]: GrpcStatus.UNIMPLEMENTED,
  [HttpStatus.SERVICE_UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [HttpStatus.GATEWAY_TIMEOUT]: GrpcStatus.DEADLINE_EXCEEDED,
};

const HTTP_BY_STATUS: Record<number, number> = {
  [GrpcStatus.INVALID_ARGUMENT]: HttpStatus.BAD_REQUEST,
  [GrpcStatus.UNAUTHENTICATED]: HttpStatus.UNAUTHORIZED,
  [GrpcStatus.PERMISSION_DENIED]: HttpStatus.FORBIDDEN,
  [GrpcStatus.NOT_FOUND]: HttpStatus.NOT_FOUND,
  [GrpcStatus.ALREADY_EXISTS]: HttpStatus.CONFLICT,
  [GrpcStatus.FAILED_PRECONDITION]: HttpStatus.PRECONDITION_FAILED,
  [GrpcStatus.RESOURCE_EXHAUSTED]: HttpStatus.TOO_MANY_REQUESTS,
  [GrpcStatus.UNIMPLEMENTED]: HttpStatus.NOT_IMPLEMENTED,
  [GrpcStatus.DEADLINE_EXCEEDED]: HttpStatus.GATEWAY_TIMEOUT,
};

interface GrpcMetadata {
  get(key: string): Array<string | Buffer>;
  set(key: string, value: string): void;
}

interface GrpcCall {
  metadata: GrpcMetadata;
}

interface GrpcError {
  code: number;
  details?: string;
  metadata?: GrpcMetadata;
}

type GrpcCallback = (error: unknown, value?: unknown) => void;
type UnaryMethod = (
  data: unknown,
  metadata: GrpcMetadata,
) => Observable<unknown>;

function loadGrpc(): { Metadata: new () => GrpcMetadata } {
  // Loaded here, not at the top of the file, so that apps on other
  // transports need not install `@grpc/grpc-js`.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@grpc/grpc-js');
}

/** Builds the options of Nest's gRPC server and client for one contract. */
function grpcOptions(contract: GrpcServiceContract, url: string) {
  return {
    url,
    package: contract.package,
    protoPath: contract.protoPath,
    loader: LOADER_OPTIONS,
    maxReceiveMessageLength: MAX_MESSAGE_BYTES,
    maxSendMessageLength: MAX_MESSAGE_BYTES,
  };
}

/** Turns an error body into a gRPC error: the mapped status, the message, and the body in trailing metadata. */
export function toGrpcError(error: unknown): GrpcError {
  const { Metadata } = loadGrpc();
  const body: RpcErrorBody = isRpcErrorBody(error)
    ? error
    : {
        statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
        message: 'Internal server error',
        error: 'Internal Server Error',
      };
  const metadata = new Metadata();
  metadata.set(GRPC_ERROR_BODY_KEY, JSON.stringify(body));
  return {
    code:
      STATUS_BY_HTTP[body.statusCode] ??
      (body.statusCode >= 500 ? GrpcStatus.INTERNAL : GrpcStatus.UNKNOWN),
    details: [body.message].flat().join('; '),
    metadata,
  };
}

/**
 * Turns a gRPC error back into the error body the service raised, so the
 * gateway maps it like any other transport's. UNAVAILABLE becomes
 * `ServiceUnreachableError`, which `ServiceClient` maps to 503.
 */
export function fromGrpcError(error: unknown): unknown {
  if (
    typeof error !== 'object' ||
    error === null ||
    typeof (error as GrpcError).code !== 'number'
  ) {
    return error;
  }
  const { code, details = '', metadata } = error as GrpcError;
  // A body first: a service that raised its own 503 keeps its message.
  const [encoded] = metadata?.get(GRPC_ERROR_BODY_KEY) ?? [];
  if (typeof encoded === 'string') {
    try {
      const body: unknown = JSON.parse(encoded);
      if (isRpcErrorBody(body)) {
        return body;
      }
    } catch {
      // Not ours: fall back to the status code below.
    }
  }
  if (code === GrpcStatus.UNAVAILABLE) {
    return new ServiceUnreachableError(`gRPC status UNAVAILABLE: ${details}`);
  }
  // Without a body the error came from the gRPC layer itself (a message
  // over the size limit is RESOURCE_EXHAUSTED), not from a handler: the
  // client gets 502, and its details, which name internal limits, stay here.
  const statusCode =
    code === GrpcStatus.RESOURCE_EXHAUSTED
      ? HttpStatus.BAD_GATEWAY
      : (HTTP_BY_STATUS[code] ?? HttpStatus.BAD_GATEWAY);
  const message =
    statusCode >= HttpStatus.INTERNAL_SERVER_ERROR
      ? `The service call failed with gRPC status ${code}.`
      : details || `gRPC status ${code}`;
  return { statusCode, message } satisfies RpcErrorBody;
}

export interface ContextGrpcServerOptions {
  /** `host:port` to listen on. */
  url: string;
  contract: GrpcServiceContract;
}

/**
 * A `ServerGrpc` that verifies the envelope in each call's
 * `x-user-context` metadata before Nest dispatches it, and serves the
 * contract's methods with the app's ordinary `@MessagePattern()` and
 * `@EventPattern()` handlers. Errors leave as gRPC status codes
 * (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, NOT_FOUND, ...).
 */
export class ContextGrpcServer extends ServerGrpc {
  private readonly gate: EnvelopeGate;
  private readonly contract: GrpcServiceContract;
  private readonly patternByRpc = new Map<string, string>();

  constructor(
    { url, contract }: ContextGrpcServerOptions,
    resolveCodec: () => ContextEnvelopeCodec,
  ) {
    super(grpcOptions(contract, url));
    this.contract = contract;
    this.gate = new EnvelopeGate(ContextGrpcServer.name, resolveCodec);
    for (const [pattern, route] of Object.entries(contract.methods)) {
      this.patternByRpc.set(route.rpc, pattern);
    }
  }

  override addHandler(
    pattern: unknown,
    callback: MessageHandler,
    isEventHandler = false,
  ): void {
    const route =
      typeof pattern === 'string' ? pattern : JSON.stringify(pattern);
    super.addHandler(
      pattern,
      isEventHandler ? this.gate.logFailures(route, callback) : callback,
      isEventHandler,
    );
  }

  /** A `@GrpcMethod()` handler wins; otherwise the contract names the pattern whose handler serves the method. */
  override getMessageHandler(
    serviceName: string,
    methodName: string,
    streaming: GrpcMethodStreamingType,
    grpcMethod: { path?: string },
  ): MessageHandler {
    const own = super.getMessageHandler(
      serviceName,
      methodName,
      streaming,
      grpcMethod,
    );
    const pattern = this.patternByRpc.get(methodName);
    const ours =
      serviceName === this.contract.service ||
      serviceName.endsWith(`.${this.contract.service}`);
    if (
      own ||
      !ours ||
      !pattern ||
      streaming !== GrpcMethodStreamingType.NO_STREAMING
    ) {
      return own;
    }
    const handler = this.messageHandlers.get(pattern);
    return (handler &&
      this.adapt(handler, this.contract.methods[pattern])) as MessageHandler;
  }

  // TODO: streaming methods get no envelope check here. Their handlers run
  // with no verified user, so the global AuthenticationGuard rejects them.
  override createUnaryServiceMethod(
    methodHandler: MessageHandler,
  ): (call: GrpcCall, callback: GrpcCallback) => Promise<void> {
    const unary = super.createUnaryServiceMethod(methodHandler) as (
      call: GrpcCall,
      callback: GrpcCallback,
    ) => Promise<void>;
    return async (call, callback) => {
      const reply: GrpcCallback = (error, value) =>
        error ? callback(toGrpcError(error)) : callback(null, value);
      const [envelope] = call.metadata.get(USER_CONTEXT_HEADER);
      const { verified, rejection } = this.gate.check(
        typeof envelope === 'string' ? envelope : undefined,
        this.patternByRpc.get(methodHandler.name) ?? methodHandler.name,
      );
      if (rejection) {
        return reply(rejection);
      }
      return runInVerifiedScope(verified, () => unary(call, reply));
    };
  }

  /** Wraps a pattern handler so its result fits the method's response message. */
  private adapt(
    handler: MessageHandler,
    route: GrpcMethodRoute,
  ): MessageHandler {
    return (async (data: unknown, metadata: unknown, call: unknown) => {
      const result$ = this.transformToObservable(
        await (handler as (...args: unknown[]) => unknown)(
          data ?? {},
          metadata,
          call,
        ),
      );
      if (route.event) {
        // The event ran; its failures are logged by EnvelopeGate.logFailures.
        return result$.pipe(
          defaultIfEmpty(undefined),
          last(),
          map(() => ({})),
        );
      }
      return result$.pipe(
        map((value) =>
          route.listField ? { [route.listField]: value } : (value ?? {}),
        ),
      );
    }) as MessageHandler;
  }
}

export interface ContextGrpcClientOptions {
  /** `host:port` of the service. */
  url: string;
  contract: GrpcServiceContract;
  codec: ContextEnvelopeCodec;
  /** Name of the service this client calls: the audience of its envelopes. */
  audience?: string;
}

/**
 * A gRPC client with the same `send(pattern, data)` and `emit(pattern, data)`
 * as every other context client: the contract maps the pattern to a method,
 * the envelope travels in `x-user-context` metadata, and gRPC errors come
 * back as the service's error body.
 */
export class ContextGrpcClient extends ClientGrpcProxy {
  private readonly contract: GrpcServiceContract;
  private readonly codec: ContextEnvelopeCodec;
  private methods?: Record<string, UnaryMethod>;

  private readonly audience?: string;

  constructor({ url, contract, codec, audience }: ContextGrpcClientOptions) {
    super(grpcOptions(contract, url));
    this.contract = contract;
    this.codec = codec;
    this.audience = audience;
  }

  /** Nothing to open ahead: a gRPC channel connects on its first call and reconnects by itself. */
  override async connect(): Promise<void> {
    return undefined;
  }

  override send<TResult = unknown, TInput = unknown>(
    pattern: unknown,
    data: TInput,
  ): Observable<TResult> {
    return this.call<TResult>('send', pattern, data);
  }

  /** Hot, like `ClientProxy.emit`: the call starts now, whether or not anyone subscribes. */
  override emit<TResult = unknown, TInput = unknown>(
    pattern: unknown,
    data: TInput,
  ): Observable<TResult> {
    const source = this.call<unknown>('emit', pattern, data).pipe(
      map(() => undefined as TResult),
    );
    const hot = connectable(source, {
      connector: () => new Subject(),
      resetOnDisconnect: false,
    });
    hot.connect();
    return hot;
  }

  private call<TResult>(
    kind: 'send' | 'emit',
    pattern: unknown,
    data: unknown,
  ): Observable<TResult> {
    let envelope: string;
    try {
      envelope = signFor(kind, this.codec, pattern, data, this.audience);
    } catch (error) {
      return throwError(() => error);
    }
    const route =
      typeof pattern === 'string' ? this.contract.methods[pattern] : undefined;
    if (!route) {
      return throwError(
        () =>
          new Error(
            `The gRPC contract of ${this.contract.service} has no method for ${String(pattern)}.`,
          ),
      );
    }
    const { Metadata } = loadGrpc();
    const metadata = new Metadata();
    metadata.set(USER_CONTEXT_HEADER, envelope);
    this.methods ??= this.getService<Record<string, UnaryMethod>>(
      this.contract.service,
    );
    const response$ = this.methods[route.rpc](data ?? {}, metadata);

    return new Observable<TResult>((subscriber) => {
      // grpc-js runs callbacks in the async context of the call that opened the
      // channel; run the callbacks in the caller's, as the other clients do.
      const resource = new AsyncResource('ContextGrpcClient.response');
      const subscription = response$.subscribe({
        next: (value) =>
          resource.runInAsyncScope(() =>
            subscriber.next(
              (route.listField
                ? ((value as Record<string, unknown>)[route.listField] ?? [])
                : value) as TResult,
            ),
          ),
        error: (error: unknown) =>
          resource.runInAsyncScope(() =>
            subscriber.error(fromGrpcError(error)),
          ),
        complete: () => resource.runInAsyncScope(() => subscriber.complete()),
      });
      return () => subscription.unsubscribe();
    });
  }
}
