import { Injectable, NestMiddleware } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  ServerResponse,
} from 'node:http';

import { runInScope } from '../context/request-scope';
import {
  REQUEST_ID_HEADER,
  USER_CONTEXT_HEADER,
} from '../user-context.constants';

/** Request ids accepted from clients: 1-128 URL-safe characters. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Inbound headers that claim an identity; only the gateway's own token check may set one. */
const IDENTITY_HEADER_PREFIX = 'x-user-';

/**
 * Drops every inbound identity header (`x-user-*`, which includes the
 * envelope header) and returns the request id: the client's own when it is
 * well formed, otherwise a new UUID.
 */
export function prepareInboundHeaders(headers: IncomingHttpHeaders): string {
  for (const name of Object.keys(headers)) {
    if (
      name.startsWith(IDENTITY_HEADER_PREFIX) ||
      name === USER_CONTEXT_HEADER
    ) {
      delete headers[name];
    }
  }
  const inbound = headers[REQUEST_ID_HEADER];
  const requestId =
    typeof inbound === 'string' && REQUEST_ID_PATTERN.test(inbound)
      ? inbound
      : randomUUID();
  headers[REQUEST_ID_HEADER] = requestId;
  return requestId;
}

interface FastifyLike {
  addHook(
    name: 'onRequest',
    hook: (
      request: { headers: IncomingHttpHeaders },
      reply: { header(name: string, value: string): unknown },
      done: () => void,
    ) => void,
  ): unknown;
}

/** Tells a Fastify instance from an Express one. */
export function isFastify(instance: unknown): instance is FastifyLike {
  return (
    typeof instance === 'object' &&
    instance !== null &&
    typeof (instance as { addHook?: unknown }).addHook === 'function'
  );
}

/**
 * Opens the scope of each request with a Fastify `onRequest` hook: the rest
 * of the lifecycle, guards and handlers included, runs inside the
 * `done()` call and so inside the scope. A hook rather than Nest middleware,
 * because Nest runs middleware on Fastify through @fastify/middie, which
 * cost about a fifth of the gateway's CPU per request in `npm run bench`.
 */
export function registerRequestScopeHook(fastify: FastifyLike): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const requestId = prepareInboundHeaders(request.headers);
    reply.header(REQUEST_ID_HEADER, requestId);
    runInScope({ requestId }, done);
  });
}

/**
 * The same as `registerRequestScopeHook`, as Nest middleware for the
 * Express adapter. Runs the rest of the request inside the scope with
 * `run()`, never `enterWith()`.
 */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  use(
    request: IncomingMessage,
    response: ServerResponse,
    next: () => void,
  ): void {
    const requestId = prepareInboundHeaders(request.headers);
    response.setHeader(REQUEST_ID_HEADER, requestId);
    runInScope({ requestId }, next);
  }
}
