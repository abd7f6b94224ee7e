import { Controller, Get } from '@nestjs/common';
import { Public } from '@platform/user-context';

@Controller('health')
export class HealthController {
  @Public()
  @Get()
  health() {
    return { status: 'ok' };
  }
}
