import { Controller, Get } from '@nestjs/common';
import { CurrentUser, UserContext } from '@platform/user-context';

@Controller('me')
export class MeController {
  @Get()
  me(@CurrentUser() user: UserContext) {
    return {
      userId: user.userId,
      email: user.email ?? null,
      roles: user.roles,
      permissions: user.permissions,
    };
  }
}
