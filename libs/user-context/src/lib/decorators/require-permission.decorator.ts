import { SetMetadata } from '@nestjs/common';

import { REQUIRED_PERMISSIONS_KEY } from '../user-context.constants';

/**
 * Requires every listed permission. On a class it applies to all handlers,
 * and the handler's own list is added to it. A caller missing any of them
 * gets 403; the message names the missing permissions.
 *
 * @example
 * @RequirePermission('orders:create')
 * @MessagePattern('orders.create')
 * create(@Payload() dto: CreateOrderDto) { ... }
 */
export const RequirePermission = (...permissions: string[]) =>
  SetMetadata(REQUIRED_PERMISSIONS_KEY, permissions);
