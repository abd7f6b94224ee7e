import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';

import {
  CreateOrderDto,
  INVENTORY_CLIENT,
  Order,
  OrderCreatedEvent,
  OrderEvents,
  ReservationResultEvent,
} from '@platform/contracts';
import { AuditService, UserContext } from '@platform/user-context';

import { OrderEntity } from './order.entity';

/** Permission that lets a caller read every user's orders, not only their own. */
export const READ_ALL_ORDERS = 'orders:read:all';

@Injectable()
export class OrdersService {
  private readonly logger = new Logger(OrdersService.name);

  constructor(
    @InjectRepository(OrderEntity)
    private readonly orders: Repository<OrderEntity>,
    @Inject(INVENTORY_CLIENT) private readonly inventory: ClientProxy,
    private readonly audit: AuditService,
  ) {}

  /**
   * Stores a pending order and emits `order.created` so that inventory
   * reserves its items. The event is signed with the caller's context, so the
   * reservation names the caller.
   */
  async create(dto: CreateOrderDto, user: UserContext): Promise<Order> {
    const order = this.orders.create({
      id: randomUUID(),
      items: dto.items.map(({ sku, quantity }) => ({ sku, quantity })),
      status: 'pending',
      createdBy: user.userId,
      createdAt: new Date().toISOString(),
    });
    await this.orders.save(order);
    this.audit.record({
      action: 'order.create',
      resourceId: order.id,
      outcome: 'success',
      details: { lines: order.items.length },
    });

    const event: OrderCreatedEvent = { orderId: order.id, items: order.items };
    // TODO: an order whose event is lost (inventory down) stays pending; an
    // outbox table with retries would close that gap.
    this.inventory.emit(OrderEvents.created, event).subscribe({
      error: (error: Error) =>
        this.logger.error(
          `Could not publish ${OrderEvents.created} for order ${order.id}: ${error.message}`,
        ),
    });
    return order.toOrder();
  }

  async list(user: UserContext): Promise<Order[]> {
    const orders = await this.orders.find({
      where: { createdBy: user.userId },
      order: { createdAt: 'ASC' },
    });
    return orders.map((order) => order.toOrder());
  }

  /** Returns an order the caller may see; another user's order is 404, not 403, so ids do not leak. */
  async get(id: string, user: UserContext): Promise<Order> {
    // Ids are stored as randomUUID() makes them: lower case.
    const order = await this.orders.findOneBy({ id: id.toLowerCase() });
    const visible =
      order !== null &&
      (order.createdBy === user.userId ||
        user.permissions.includes(READ_ALL_ORDERS));
    if (!visible) {
      throw new NotFoundException(`Order ${id} was not found.`);
    }
    return order.toOrder();
  }

  /**
   * Sets the status of a pending order from inventory's reservation result.
   * The result must carry the identity of the order's creator: a validly signed
   * message from anyone else cannot settle someone's order.
   */
  async applyReservationResult(
    event: ReservationResultEvent,
    user: UserContext,
  ): Promise<void> {
    const order = await this.orders.findOneBy({ id: event.orderId });
    if (!order) {
      this.logger.warn(
        `Reservation result for unknown order ${event.orderId} ignored.`,
      );
      return;
    }
    // TODO: accept this event only under inventory's own service identity.
    // Today anyone holding an envelope of the order's creator can settle it.
    if (order.createdBy !== user.userId) {
      this.logger.warn(
        `Reservation result for order ${order.id} sent as another user; ignored.`,
      );
      this.audit.record({
        action: 'order.status',
        resourceId: order.id,
        outcome: 'denied',
      });
      return;
    }
    if (order.status !== 'pending') {
      this.logger.warn(
        `Order ${order.id} is already ${order.status}; duplicate result ignored.`,
      );
      return;
    }

    order.status = event.status;
    await this.orders.save(order);
    this.audit.record({
      action: 'order.status',
      resourceId: order.id,
      outcome: 'success',
      details: {
        status: event.status,
        ...(event.reason ? { reason: event.reason } : {}),
      },
    });
  }
}
