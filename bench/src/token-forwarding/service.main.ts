// The anti-pattern's service: it verifies the forwarded JWT on every
// message, checks the permission, validates the payload and reads the same
// kind of SQLite table as the inventory service.
import {
  CanActivate,
  Controller,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  Module,
  NotFoundException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  MessagePattern,
  Payload,
  RpcException,
  Transport,
} from '@nestjs/microservices';
import {
  getRepositoryToken,
  InjectRepository,
  TypeOrmModule,
} from '@nestjs/typeorm';
import { IsString } from 'class-validator';
import { join } from 'node:path';
import { Column, Entity, PrimaryColumn, Repository } from 'typeorm';

import { createValidationPipes, SkuDto } from '@platform/contracts';
import { toRpcErrorBody } from '@platform/user-context';

import { portFromEnv, stockFixture } from '../stock-fixture';
import { createForwardingVerifier } from './forwarding-verifier';

@Entity('stock')
class StockRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  sku!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'integer' })
  available!: number;

  @Column({ type: 'integer', default: 0 })
  reserved!: number;
}

class StockRequestDto extends SkuDto {
  @IsString()
  token!: string;
}

@Injectable()
class ForwardedTokenGuard implements CanActivate {
  private readonly verifier = createForwardingVerifier();

  canActivate(context: ExecutionContext): boolean {
    const data = context.switchToRpc().getData<{ token?: unknown }>();
    try {
      const user = this.verifier.verify(String(data.token ?? ''));
      if (!user.permissions.includes('inventory:read')) {
        throw new ForbiddenException('Missing permission: inventory:read.');
      }
    } catch (error) {
      throw new RpcException(toRpcErrorBody(error));
    }
    return true;
  }
}

@Controller()
class StockController {
  constructor(
    @InjectRepository(StockRow) private readonly stock: Repository<StockRow>,
  ) {}

  @UseGuards(ForwardedTokenGuard)
  @MessagePattern('stock.get')
  async get(@Payload() dto: StockRequestDto) {
    const row = await this.stock.findOneBy({ sku: dto.sku });
    if (!row) {
      throw new RpcException(
        toRpcErrorBody(new NotFoundException(`SKU ${dto.sku} was not found.`)),
      );
    }
    return {
      sku: row.sku,
      name: row.name,
      available: row.available,
      reserved: row.reserved,
    };
  }
}

@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'better-sqlite3',
      database: join(process.env.DATA_DIR ?? '.', 'token-forwarding.sqlite'),
      entities: [StockRow],
      synchronize: true,
    }),
    TypeOrmModule.forFeature([StockRow]),
  ],
  controllers: [StockController],
})
class ForwardingServiceModule {}

async function bootstrap(): Promise<void> {
  const app = await NestFactory.createMicroservice(ForwardingServiceModule, {
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port: portFromEnv('SERVICE_PORT') },
    logger: ['error', 'warn'],
  });
  app.useGlobalPipes(...createValidationPipes());
  await app.init();
  const repository = app.get<Repository<StockRow>>(
    getRepositoryToken(StockRow),
  );
  await repository.save({ ...stockFixture('KB-001') });
  await app.listen();
}

void bootstrap();
