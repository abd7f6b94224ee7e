import { Injectable, NestMiddleware } from '@nestjs/common';
import { CLS_ID, ClsService } from 'nestjs-cls';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { REQUEST_ID_HEADER, USER_CONTEXT_HEADER } from '../user-context.constants';

/** Request ids accepted from clients: 1-128 URL-safe characters. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Inbound headers that claim an identity; only the gateway's own token check may set one. */
const IDENTITY_HEADER_PATTERN = /^x-user-/;

/**
 * Opens the async-local scope of one HTTP request at the gateway.
 *
 * - Drops every inbound identity header (`x-user-*`, including the envelope
 *   header) on every route, public ones too, so nothing downstream can
 *   mistake a client's header for a verified identity.
 * - Takes a well-formed `x-request-id` from the client or generates one, and
 *   echoes it on the response.
 * - Runs the rest of the request, guards and handlers included, inside the
 *   scope with `run()`, never `enterWith()`.
 */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  constructor(private readonly cls: ClsService) {}

  use(request: IncomingMessage, response: ServerResponse, next: () => void): void {
    for (const name of Object.keys(request.headers)) {
      if (IDENTITY_HEADER_PATTERN.test(name) || name === USER_CONTEXT_HEADER) {
        delete request.headers[name];
      }
    }

    const inbound = request.headers[REQUEST_ID_HEADER];
    const requestId =
      typeof inbound === 'string' && REQUEST_ID_PATTERN.test(inbound) ? inbound : randomUUID();
    request.headers[REQUEST_ID_HEADER] = requestId;
    response.setHeader(REQUEST_ID_HEADER, requestId);

    this.cls.run({ ifNested: 'override' }, () => {
      this.cls.set(CLS_ID, requestId);
      next();
    });
  }
}
