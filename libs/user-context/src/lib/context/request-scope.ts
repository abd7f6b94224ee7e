import { AsyncLocalStorage } from 'node:async_hooks';

import { UserContext } from '../user-context.interface';

/** State of one request or message, carried through every await of its handling. */
export interface RequestScope {
  /** Id shared by every hop of the request, for logs and audit lines. */
  readonly requestId: string;
  /** The verified user; unset until the gateway's guard has checked the token. */
  user?: UserContext;
  /** The envelope this message arrived with, which a service that cannot sign forwards. */
  envelope?: string;
}

/**
 * Async-local storage of the current `RequestScope`.
 *
 * A plain `AsyncLocalStorage` rather than nestjs-cls: `ClsModule.forRoot`
 * (nestjs-cls 6.3) registers a global no-op guard and interceptor, and any
 * global interceptor sends every request through Nest's interceptor chain,
 * which calls `AsyncResource.bind` twice per request. On Node 20 that alone
 * took about 14% of the gateway's CPU in `npm run bench`.
 */
const storage = new AsyncLocalStorage<RequestScope>();

/**
 * Runs `handler` in a new scope. Scopes never nest into each other: the new
 * one replaces whatever was current, so a message can never run as the user
 * of the message before it on the same socket.
 */
export function runInScope<T>(scope: RequestScope, handler: () => T): T {
  return storage.run(scope, handler);
}

/** Returns the scope of the request or message being handled, if any. */
export function currentScope(): RequestScope | undefined {
  return storage.getStore();
}

/** Returns the verified user of the current scope, if any. */
export function currentUser(): UserContext | undefined {
  return storage.getStore()?.user;
}
