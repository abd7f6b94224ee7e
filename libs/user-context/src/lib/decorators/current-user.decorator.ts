import {
  createParamDecorator,
  ExecutionContext,
  UnauthorizedException,
} from '@nestjs/common';

import { currentUser } from '../context/request-scope';
import { UserContext } from '../user-context.interface';

/** Reads the current user, or one field of it, from the async-local scope. */
export function currentUserFactory(
  field: keyof UserContext | undefined,
  _context?: ExecutionContext,
): unknown {
  const user = currentUser();
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
