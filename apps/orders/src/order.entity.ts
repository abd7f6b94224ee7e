import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

import { Order, OrderItem, OrderStatus } from '@platform/contracts';

@Entity('orders')
export class OrderEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'simple-json' })
  items!: OrderItem[];

  @Column({ type: 'varchar', length: 16 })
  status!: OrderStatus;

  @Index()
  @Column({ type: 'varchar', length: 255 })
  createdBy!: string;

  /** ISO 8601 with milliseconds, stored as text so SQLite keeps the precision. */
  @Column({ type: 'varchar', length: 30 })
  createdAt!: string;

  toOrder(): Order {
    return {
      id: this.id,
      items: this.items,
      status: this.status,
      createdBy: this.createdBy,
      createdAt: this.createdAt,
    };
  }
}
