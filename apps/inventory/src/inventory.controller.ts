import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';

import {
  InventoryPatterns,
  ListReservationsDto,
  OrderCreatedEvent,
  OrderEvents,
  Reservation,
  SkuDto,
  Stock,
} from '@platform/contracts';
import {
  CurrentUser,
  RequirePermission,
  UserContext,
} from '@platform/user-context';

import { InventoryService } from './inventory.service';

@Controller()
export class InventoryController {
  constructor(private readonly inventory: InventoryService) {}

  @RequirePermission('inventory:read')
  @MessagePattern(InventoryPatterns.listStock)
  listStock(): Promise<Stock[]> {
    return this.inventory.listStock();
  }

  @RequirePermission('inventory:read')
  @MessagePattern(InventoryPatterns.getStock)
  getStock(@Payload() dto: SkuDto): Promise<Stock> {
    return this.inventory.getStock(dto.sku);
  }

  @RequirePermission('inventory:read')
  @MessagePattern(InventoryPatterns.listReservations)
  listReservations(
    @Payload() dto: ListReservationsDto,
    @CurrentUser() user: UserContext,
  ): Promise<Reservation[]> {
    return this.inventory.listReservations(dto.orderId, user);
  }

  /** Reserves on behalf of the order's creator, who must be allowed to create orders. */
  @RequirePermission('orders:create')
  @EventPattern(OrderEvents.created)
  onOrderCreated(
    @Payload() event: OrderCreatedEvent,
    @CurrentUser() user: UserContext,
  ): Promise<void> {
    return this.inventory.reserve(event, user);
  }
}
