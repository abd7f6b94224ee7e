import { Injectable, UnauthorizedException } from '@nestjs/common';

import { currentScope, currentUser } from './context/request-scope';
import { UserContext } from './user-context.interface';

/**
 * Returns the user and request id of the request or message being handled.
 * Works the same in HTTP controllers, message handlers and event handlers,
 * because each of them runs in its own async-local scope.
 *
 * @example
 * constructor(private readonly userContext: UserContextService) {}
 * audit() { return this.userContext.get().userId; }
 */
@Injectable()
export class UserContextService {
  /** Returns the current user, or `undefined` outside an authenticated scope. */
  find(): UserContext | undefined {
    return currentUser();
  }

  /** Returns the current user; throws 401 when there is none. */
  get(): UserContext {
    const user = currentUser();
    if (!user) {
      throw new UnauthorizedException('No authenticated user in this context.');
    }
    return user;
  }

  /** Returns the request id shared by every hop of this request. */
  requestId(): string | undefined {
    return currentScope()?.requestId;
  }
}
