import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

import { Reservation } from '@platform/contracts';

@Entity('reservations')
export class ReservationEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Index()
  @Column({ type: 'varchar', length: 36 })
  orderId!: string;

  @Column({ type: 'varchar', length: 64 })
  sku!: string;

  @Column({ type: 'integer' })
  quantity!: number;

  /** User id from the envelope of the `order.created` event. */
  @Column({ type: 'varchar', length: 255 })
  reservedBy!: string;

  /** ISO 8601 with milliseconds. */
  @Column({ type: 'varchar', length: 30 })
  reservedAt!: string;

  toReservation(): Reservation {
    return {
      orderId: this.orderId,
      sku: this.sku,
      quantity: this.quantity,
      reservedBy: this.reservedBy,
      reservedAt: this.reservedAt,
    };
  }
}
