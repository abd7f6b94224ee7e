import { Injectable, UnauthorizedException } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';

import { CLS_USER_KEY } from './user-context.constants';
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
  constructor(private readonly cls: ClsService) {}

  /** Returns the current user, or `undefined` outside an authenticated scope. */
  find(): UserContext | undefined {
    return this.cls.isActive() ? this.cls.get(CLS_USER_KEY) : undefined;
  }

  /** Returns the current user; throws 401 when there is none. */
  get(): UserContext {
    const user = this.find();
    if (!user) {
      throw new UnauthorizedException('No authenticated user in this context.');
    }
    return user;
  }

  /** Returns the request id shared by every hop of this request. */
  requestId(): string | undefined {
    return this.cls.isActive() ? this.cls.getId() : undefined;
  }
}
