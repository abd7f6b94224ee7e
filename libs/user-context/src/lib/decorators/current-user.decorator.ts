import { createParamDecorator, ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { ClsServiceManager } from 'nestjs-cls';

import { CLS_USER_KEY } from '../user-context.constants';
import { UserContext } from '../user-context.interface';

/** Reads the current user, or one field of it, from the async-local scope. */
export function currentUserFactory(
  field: keyof UserContext | undefined,
  _context?: ExecutionContext,
): unknown {
  const cls = ClsServiceManager.getClsService();
  const user: UserContext | undefined = cls.isActive() ? cls.get(CLS_USER_KEY) : undefined;
  if (!user) {
    throw new UnauthorizedException('No authenticated user in this context.');
  }
  return field ? user[field] : user;
}

/**
 * Injects the verified `UserContext`, or one of its fields, into an HTTP
 * route, a message handler or an event handler.
 *
 * @example
 * @MessagePattern('orders.list')
 * list(@CurrentUser('userId') userId: string) { ... }
 */
export const CurrentUser = createParamDecorator(currentUserFactory);
