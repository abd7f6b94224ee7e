import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';

import {
  CreateOrderDto,
  Order,
  OrderEvents,
  OrderIdDto,
  OrdersPatterns,
  ReservationResultEvent,
} from '@platform/contracts';
import {
  CurrentUser,
  RequirePermission,
  UserContext,
} from '@platform/user-context';

import { OrdersService } from './orders.service';

@Controller()
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @RequirePermission('orders:create')
  @MessagePattern(OrdersPatterns.create)
  create(
    @Payload() dto: CreateOrderDto,
    @CurrentUser() user: UserContext,
  ): Promise<Order> {
    return this.orders.create(dto, user);
  }

  @RequirePermission('orders:read')
  @MessagePattern(OrdersPatterns.list)
  list(@CurrentUser() user: UserContext): Promise<Order[]> {
    return this.orders.list(user);
  }

  @RequirePermission('orders:read')
  @MessagePattern(OrdersPatterns.get)
  get(
    @Payload() dto: OrderIdDto,
    @CurrentUser() user: UserContext,
  ): Promise<Order> {
    return this.orders.get(dto.id, user);
  }

  @EventPattern(OrderEvents.reservationResult)
  onReservationResult(
    @Payload() event: ReservationResultEvent,
    @CurrentUser() user: UserContext,
  ): Promise<void> {
    return this.orders.applyReservationResult(event, user);
  }
}
