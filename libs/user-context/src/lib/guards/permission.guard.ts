import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';

import { REQUIRED_PERMISSIONS_KEY } from '../user-context.constants';
import { UserContextService } from '../user-context.service';

/**
 * Enforces `@RequirePermission()` on HTTP routes, message handlers and event
 * handlers alike. Runs after `AuthenticationGuard`.
 */
@Injectable()
export class PermissionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly userContext: UserContextService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndMerge<string[]>(
      REQUIRED_PERMISSIONS_KEY,
      [context.getClass(), context.getHandler()],
    );
    if (!required || required.length === 0) {
      return true;
    }

    const granted = new Set(this.userContext.get().permissions);
    const missing = required.filter((permission) => !granted.has(permission));
    if (missing.length > 0) {
      throw new ForbiddenException(
        `Missing permission: ${missing.join(', ')}.`,
      );
    }
    return true;
  }
}
