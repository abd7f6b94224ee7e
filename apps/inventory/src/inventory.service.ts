import {
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';

import {
  ORDERS_CLIENT,
  OrderCreatedEvent,
  OrderEvents,
  OrderItem,
  Reservation,
  ReservationResultEvent,
  Stock,
} from '@platform/contracts';
import { AuditService, UserContext } from '@platform/user-context';

import { DEMO_CATALOG } from './catalog';
import { ReservationEntity } from './reservation.entity';
import { StockEntity } from './stock.entity';

const MAX_RESERVATIONS_LISTED = 500;

/** Permission that shows every user's reservations, not only the caller's. */
export const READ_ALL_RESERVATIONS = 'inventory:read:all';

type ReservationOutcome = Pick<ReservationResultEvent, 'status' | 'reason'>;

@Injectable()
export class InventoryService implements OnApplicationBootstrap {
  private readonly logger = new Logger(InventoryService.name);
  // The SQLite driver shares one connection, so two TypeORM transactions in
  // flight at once would interleave. Reservations therefore run one at a
  // time in this process. Replicas of the service share a PostgreSQL
  // database, where `rowLock` keeps them from reserving the same stock twice.
  private reservationQueue: Promise<unknown> = Promise.resolve();
  /** Locks each stock row read for a reservation until its transaction ends; SQLite has no row locks. */
  private readonly rowLock?: { mode: 'pessimistic_write' };
  /**
   * SQL of the stock lookup, generated once with the driver's own
   * placeholders. Building it per request through TypeORM's query builder
   * took longer than running it (about 16 µs of 66 per message in
   * `npm run bench`).
   */
  private readonly stockBySkuSql: string;

  constructor(
    @InjectRepository(StockEntity)
    private readonly stock: Repository<StockEntity>,
    @InjectRepository(ReservationEntity)
    private readonly reservations: Repository<ReservationEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(ORDERS_CLIENT) private readonly orders: ClientProxy,
    private readonly audit: AuditService,
  ) {
    [this.stockBySkuSql] = this.stock
      .createQueryBuilder('stock')
      .select('stock.sku', 'sku')
      .addSelect('stock.name', 'name')
      .addSelect('stock.available', 'available')
      .addSelect('stock.reserved', 'reserved')
      .where('stock.sku = :sku', { sku: '' })
      .getQueryAndParameters();
    this.rowLock =
      dataSource.options.type === 'postgres'
        ? { mode: 'pessimistic_write' }
        : undefined;
  }

  /** Writes the demo catalog into an empty database; a database with stock is left alone. */
  async onApplicationBootstrap(): Promise<void> {
    if ((await this.stock.count()) > 0) {
      return;
    }
    // Ignores rows that already exist: a replica starting at the same time
    // on a shared database may have seeded them first.
    await this.stock
      .createQueryBuilder()
      .insert()
      .values(DEMO_CATALOG.map((item) => ({ ...item, reserved: 0 })))
      .orIgnore()
      .execute();
    this.logger.log(`Seeded ${DEMO_CATALOG.length} demo catalog items.`);
  }

  async listStock(): Promise<Stock[]> {
    const items = await this.stock.find({ order: { sku: 'ASC' } });
    return items.map((item) => item.toStock());
  }

  async getStock(sku: string): Promise<Stock> {
    const [item] = (await this.stock.query(this.stockBySkuSql, [
      sku,
    ])) as Stock[];
    if (!item) {
      throw new NotFoundException(`SKU ${sku} was not found.`);
    }
    return item;
  }

  /**
   * Lists reservations, optionally of one order. Each names a user and an
   * order, so callers see only the ones they made unless they have
   * `inventory:read:all`.
   */
  async listReservations(
    orderId: string | undefined,
    user: UserContext,
  ): Promise<Reservation[]> {
    const readAll = user.permissions.includes(READ_ALL_RESERVATIONS);
    const rows = await this.reservations.find({
      where: {
        ...(orderId ? { orderId } : {}),
        ...(readAll ? {} : { reservedBy: user.userId }),
      },
      order: { id: 'ASC' },
      take: MAX_RESERVATIONS_LISTED,
    });
    return rows.map((row) => row.toReservation());
  }

  /**
   * Reserves every line of an order, or none: when a SKU is unknown or short
   * of stock the order is rejected and nothing changes. Sends the outcome to
   * orders as an event, under the same user's identity.
   */
  async reserve(event: OrderCreatedEvent, user: UserContext): Promise<void> {
    const outcome = await this.serialize(() =>
      this.dataSource.transaction((manager) =>
        this.reserveInTransaction(manager, event, user),
      ),
    );
    if (outcome === null) {
      return;
    }

    this.audit.record({
      action: 'inventory.reserve',
      resourceId: event.orderId,
      outcome: outcome.status,
      details: outcome.reason ? { reason: outcome.reason } : undefined,
    });
    const result: ReservationResultEvent = {
      orderId: event.orderId,
      ...outcome,
    };
    // TODO: a result sent while orders is down is lost and the order stays
    // pending; TCP events have no delivery guarantee.
    this.orders.emit(OrderEvents.reservationResult, result).subscribe({
      error: (error: Error) =>
        this.logger.error(
          `Could not publish ${OrderEvents.reservationResult} for order ${event.orderId}: ${error.message}`,
        ),
    });
  }

  /** Returns the outcome, or `null` for an order that was already handled. */
  private async reserveInTransaction(
    manager: EntityManager,
    event: OrderCreatedEvent,
    user: UserContext,
  ): Promise<ReservationOutcome | null> {
    if (
      (await manager.countBy(ReservationEntity, { orderId: event.orderId })) > 0
    ) {
      this.logger.warn(
        `Order ${event.orderId} already has reservations; duplicate event ignored.`,
      );
      return null;
    }

    const lines = mergeLines(event.items);
    const items = new Map<string, StockEntity>();
    for (const [sku, quantity] of lines) {
      const item = await manager.findOne(StockEntity, {
        where: { sku },
        lock: this.rowLock,
      });
      if (!item) {
        return { status: 'rejected', reason: `SKU ${sku} was not found.` };
      }
      if (item.available < quantity) {
        return {
          status: 'rejected',
          reason: `SKU ${sku} has ${item.available} available, ${quantity} requested.`,
        };
      }
      items.set(sku, item);
    }

    const reservedAt = new Date().toISOString();
    for (const [sku, quantity] of lines) {
      const item = items.get(sku) as StockEntity;
      item.available -= quantity;
      item.reserved += quantity;
      await manager.save(item);
      await manager.save(
        manager.create(ReservationEntity, {
          orderId: event.orderId,
          sku,
          quantity,
          reservedBy: user.userId,
          reservedAt,
        }),
      );
    }
    return { status: 'confirmed' };
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const result = this.reservationQueue.then(task);
    this.reservationQueue = result.catch(() => undefined);
    return result;
  }
}

/**
 * Adds up the quantities of lines that name the same SKU, in SKU order, so
 * that concurrent reservations lock rows in the same order: two orders that
 * share SKUs then wait for each other instead of deadlocking.
 */
function mergeLines(items: OrderItem[]): Map<string, number> {
  const lines = new Map<string, number>();
  for (const { sku, quantity } of [...items].sort((a, b) =>
    a.sku < b.sku ? -1 : 1,
  )) {
    lines.set(sku, (lines.get(sku) ?? 0) + quantity);
  }
  return lines;
}
