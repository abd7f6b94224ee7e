import {
  Body,
  Controller,
  Get,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import { CreateOrderDto, Order, OrdersPatterns } from '@platform/contracts';
import { ServiceClient } from '@platform/user-context';

import { InjectService } from './inject-service.decorator';

/**
 * Forwards order requests to the orders service. Permissions are checked
 * there, by the service that owns the data, not here.
 */
@Controller('orders')
export class OrdersController {
  constructor(
    @InjectService('orders') private readonly orders: ServiceClient,
  ) {}

  @Post()
  create(@Body() dto: CreateOrderDto): Promise<Order> {
    return this.orders.send(OrdersPatterns.create, dto);
  }

  @Get()
  list(): Promise<Order[]> {
    return this.orders.send(OrdersPatterns.list, {});
  }

  @Get(':id')
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<Order> {
    return this.orders.send(OrdersPatterns.get, { id });
  }
}
