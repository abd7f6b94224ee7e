// The anti-pattern, for comparison only: the gateway verifies the bearer
// token, forwards the raw token, and the service verifies it again on every
// message. Token settings and validation are the real gateway's.
import {
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Inject,
  Injectable,
  Module,
  OnApplicationBootstrap,
  Param,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxy } from '@nestjs/microservices';
import {
  FastifyAdapter,
  NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { firstValueFrom } from 'rxjs';

import { createValidationPipes, SkuDto } from '@platform/contracts';
import { portFromEnv, registerServiceClient } from '../stock-fixture';
import { createForwardingVerifier } from './forwarding-verifier';

const SERVICE = 'TOKEN_FORWARDING_SERVICE';

interface RequestWithToken {
  headers: Record<string, string | undefined>;
  token?: string;
}

@Injectable()
class BearerGuard implements CanActivate {
  private readonly verifier = createForwardingVerifier();

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<RequestWithToken>();
    const token = /^Bearer (.+)$/i.exec(
      request.headers.authorization ?? '',
    )?.[1];
    if (!token) {
      throw new UnauthorizedException('Missing bearer token.');
    }
    this.verifier.verify(token);
    request.token = token;
    return true;
  }
}

@Controller()
@UseGuards(BearerGuard)
class ForwardingController implements OnApplicationBootstrap {
  constructor(@Inject(SERVICE) private readonly service: ClientProxy) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.service.connect().catch(() => undefined);
  }

  @Get('inventory/:sku')
  stock(@Param() params: SkuDto, @Req() request: RequestWithToken) {
    return firstValueFrom(
      this.service.send('stock.get', { token: request.token, sku: params.sku }),
    );
  }
}

@Module({
  imports: [registerServiceClient(SERVICE)],
  controllers: [ForwardingController],
})
class ForwardingGatewayModule {}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(
    ForwardingGatewayModule,
    new FastifyAdapter(),
    { logger: ['error', 'warn'] },
  );
  app.useGlobalPipes(...createValidationPipes());
  await app.listen(portFromEnv('HTTP_PORT'), '127.0.0.1');
}

void bootstrap();
