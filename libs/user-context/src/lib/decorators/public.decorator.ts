import { SetMetadata } from '@nestjs/common';

import { IS_PUBLIC_KEY } from '../user-context.constants';

/**
 * Lets a gateway route through without a bearer token. Inbound identity
 * headers are still dropped on public routes.
 *
 * @example
 * @Public()
 * @Get('health')
 * health() { return { status: 'ok' }; }
 */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
